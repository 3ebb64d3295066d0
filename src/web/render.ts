// Pages render their view, then the layout around it, so views hold only their own content.
import type { Request, Response } from "express";

export interface PageLocals {
  title: string;
  [key: string]: unknown;
}

export async function renderPage(res: Response, view: string, locals: PageLocals, status = 200): Promise<void> {
  const render = (name: string, data: object) =>
    new Promise<string>((resolve, reject) =>
      res.app.render(name, { ...res.locals, ...data }, (err, html) => (err ? reject(err) : resolve(html))),
    );
  const body = await render(view, locals);
  const html = await render("layout", { ...locals, body });
  res.status(status).type("html").send(html);
}

export function wantsJson(req: Request): boolean {
  // A .json address answers JSON whoever asks: typed into a browser's address bar (Accept: text/html),
  // the log viewer's data said what was wrong in an HTML page.
  return req.path.startsWith("/api/") || req.path.endsWith(".json") || (req.accepts(["html", "json"]) === "json");
}
