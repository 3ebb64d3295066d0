// Pure validation of a load balancer's settings. Paths and names end up in haproxy's files and on
// its command line, so they are allow-lists; the reload command is an admin's shell command by design.
import type { FieldErrors } from "../../errors.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import type { SshBalancer } from "../../adapters/haproxy/ssh.js";

/** An ssh balancer's SSH port when the form leaves it empty. */
export const DEFAULT_SSH_PORT = 22;
export const LOAD_BALANCER_KINDS = ["local", "ssh"] as const;
export const LOAD_BALANCER_FIELDS = ["name", "kind", "host", "sshUser", "sshPort", "configPath", "mapPath", "reloadCommand", "fragmentName", "httpsBind"] as const;

/** The fields of every kind are those the ssh target uses (a local balancer ignores the SSH ones). */
export type LoadBalancerData = SshBalancer & { kind: (typeof LOAD_BALANCER_KINDS)[number] };

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]{2,45})$/;
const UNIX_USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;
const ABSOLUTE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;
const FRAGMENT_RE = /^[a-z0-9][a-z0-9-]{0,39}$/;
// haproxy's bind address: "[<address>]:<port>" ("*:443", ":443", "192.0.2.1:443", "[::]:443").
const BIND_RE = /^(?:\*|[0-9.]{7,15}|\[[0-9A-Fa-f:.]{2,45}\])?:[0-9]{1,5}$/;

export function validateLoadBalancer(input: Input): { ok: true; data: LoadBalancerData } | { ok: false; errors: FieldErrors } {
  const r = new FieldReader(input, LOAD_BALANCER_FIELDS);
  const name = r.text("name", { required: true, max: 100 });
  const kind = r.choice("kind", LOAD_BALANCER_KINDS, "local") ?? "local";
  const overSsh = kind === "ssh";
  const host = r.text("host", { required: overSsh, max: 253 });
  if (host && !HOST_RE.test(host)) r.fail("host", "Enter a host name or IP address (letters, digits, . - and :).");
  const sshUser = r.text("sshUser", { required: overSsh, max: 32 });
  if (sshUser && !UNIX_USER_RE.test(sshUser)) r.fail("sshUser", "Enter a Unix user name: lowercase letters, digits, _ . -, not starting with a digit or -.");
  const sshPort = r.int("sshPort", { min: 1, max: 65535, fallback: DEFAULT_SSH_PORT }) ?? DEFAULT_SSH_PORT;
  const path = (field: "configPath" | "mapPath") => {
    const value = r.text(field, { required: true, max: 500 });
    if (value && (!ABSOLUTE_PATH_RE.test(value) || value.split("/").includes(".."))) {
      r.fail(field, 'Enter an absolute path of letters, digits and . _ - / (no spaces, no "..").');
    }
    return value;
  };
  const configPath = path("configPath");
  const mapPath = path("mapPath");
  if (configPath && configPath === mapPath) r.fail("mapPath", "The map file must differ from the configuration file.");
  const reloadCommand = r.text("reloadCommand", { required: overSsh, max: 1000 });
  if (/[\r\n]/.test(reloadCommand)) r.fail("reloadCommand", "Enter the command on one line.");
  const fragmentName = r.text("fragmentName", { required: true, max: 40 });
  if (fragmentName && !FRAGMENT_RE.test(fragmentName)) r.fail("fragmentName", "Use lowercase letters, digits and -, not starting with - (at most 40).");
  const httpsBind = r.text("httpsBind", { max: 60 });
  if (httpsBind && !overSsh) r.fail("httpsBind", "Only for an ssh balancer: a local one binds LB_BIND:LB_HTTPS_PORT.");
  else if (httpsBind && (!BIND_RE.test(httpsBind) || Number(httpsBind.slice(httpsBind.lastIndexOf(":") + 1)) > 65535 || Number(httpsBind.slice(httpsBind.lastIndexOf(":") + 1)) < 1)) {
    r.fail("httpsBind", 'Enter an address and port haproxy binds, like ":443", "*:443", "192.0.2.10:443" or "[::]:443".');
  }
  if (!r.ok) return { ok: false, errors: r.errors };
  return {
    ok: true,
    // A local balancer is this host's haproxy: no SSH settings to keep.
    data: { name, kind, host: overSsh ? host : "", sshUser: overSsh ? sshUser : "", sshPort: overSsh ? sshPort : 22, configPath, mapPath, reloadCommand, fragmentName, httpsBind: overSsh ? httpsBind : "" },
  };
}
