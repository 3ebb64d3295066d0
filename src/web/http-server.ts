// The web role's HTTP server: Node's, making its requests and responses with Express's prototypes.
import http from "node:http";
import type express from "express";

export interface WebServer {
  server: http.Server;
  /** Answers the server's requests with `app`, its requests and responses born with the app's prototypes. */
  serve(app: express.Express): void;
}

/**
 * An HTTP server whose requests and responses are born with the prototypes of the app it serves.
 *
 * Express 5 gives every request and response its own prototypes as it arrives (application.js,
 * `app.handle`: `Object.setPrototypeOf(req, this.request)`). Changing a live object's prototype
 * moves it off V8's usual shapes, and the cost follows the object for its whole life: a bare Express
 * app answering a redirect allocated 26 KB per request and kept 5.9 KB of it past two young-generation
 * collections (promoted to the old generation, to be marked and compacted there), against 11 KB and
 * nothing with this server; it answered 3.4× as many requests a second (bench/README.md, issue 17).
 *
 * Node makes a server's requests and responses with the classes it is given (`http.createServer`'s
 * IncomingMessage and ServerResponse options, https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener).
 * Here they are subclasses whose prototypes become the app's request and response (the same
 * properties, the same chain to Express's and Node's), so Express's call finds the prototype already
 * in place and changes nothing. An app served another way (a test's `http.createServer(app)`) still
 * works: Express then sets the prototypes as before.
 */
export function createWebServer(): WebServer {
  class Request extends http.IncomingMessage {}
  class Response extends http.ServerResponse {}
  const server = http.createServer({ IncomingMessage: Request, ServerResponse: Response });
  return {
    server,
    serve(app) {
      app.request = adopt(Request.prototype, app.request) as express.Request;
      app.response = adopt(Response.prototype, app.response) as express.Response;
      server.on("request", app);
    },
  };
}

/** `target` made into `prototype`: its own properties (Express's `app`) and its place in the chain. */
function adopt(target: object, prototype: object): object {
  Object.defineProperties(target, Object.getOwnPropertyDescriptors(prototype));
  Object.setPrototypeOf(target, Object.getPrototypeOf(prototype));
  return target;
}
