// What an appserver transition tells the channels (src/domain/appservers/lifecycle.ts calls this
// inside the transition's transaction for the transitions that name an event).
import type { NotificationEvent } from "./events.js";
import type { NotificationInput } from "./record-notification.js";

export interface TransitionFacts {
  appServer: { id: number; name: string; number: number };
  instance: { id: number; name: string };
  actor: string;
  /** The failure summary the transition writes (the failing task), when it writes one. */
  failureSummary: string;
  /** The audit action, when refined ("appserver.activated_exclusively"). */
  action: string;
}

export function transitionNotice(event: NotificationEvent, f: TransitionFacts): NotificationInput {
  const who = `${f.instance.name} / ${f.appServer.name}`;
  const base = { event, instance: f.instance, appServer: { id: f.appServer.id, name: f.appServer.name }, path: `/instances/${f.instance.id}/appservers/${f.appServer.number}` };
  switch (event) {
    case "launch.failed":
      return { ...base, subject: `Launch failed: ${who}`, message: `The launch of ${who} failed. ${f.failureSummary || "No failing task was recorded; see the log."}` };
    case "launch.succeeded":
      return { ...base, subject: `Launch succeeded: ${who}`, message: `${who} is running. Try it through its test link, then activate it.` };
    case "appserver.activated":
      return {
        ...base, subject: `Activated: ${who}`,
        message: `${who} was activated by ${f.actor}${f.action.endsWith("_exclusively") ? "; the instance's other appservers were deactivated" : ""}.`,
      };
    case "appserver.terminated":
      return { ...base, subject: `Terminated: ${who}`, message: `${who} was terminated by ${f.actor}; its VM is being deleted.` };
    default:
      throw new Error(`transitionNotice: "${event}" is not an appserver transition's event`);
  }
}
