// An instance's HTTPS certificate uploaded by an admin (docs/load-balancer.md, custom certificates):
// the form takes the chain and the key as pasted PEM text; the key is never shown back, not even
// after an error (the admin pastes it again).
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { flash } from "../middleware.js";
import { uploadCertificate } from "../../domain/certificates/upload-certificate.js";
import { describeCertificate, getInstanceCertificate } from "../../domain/certificates/get-certificates.js";
import { allDomains } from "../../domain/instances/domains.js";
import { instanceAdmin } from "./models/instances.js";
import { actorOf, bodyOf, idOf, missing, renderAdmin } from "./page-helpers.js";

async function renderForm(deps: Deps, res: Response, id: number, form: { certificatePem: string; errors: Record<string, string> }, status = 200): Promise<void> {
  const instance = await deps.db.instance.findUnique({ where: { id } });
  if (!instance) throw missing(instanceAdmin, id);
  const current = await getInstanceCertificate(deps, { instanceId: id });
  await renderAdmin(res, "certificate", instanceAdmin, {
    title: `HTTPS certificate of ${instance.name}`,
    instance: { id: instance.id, name: instance.name },
    domains: allDomains(instance),
    current: current && current.status !== "none" ? { ...current, summary: describeCertificate(current) } : null,
    form,
  }, status);
}

export function certificatePages(deps: Deps) {
  return {
    async uploadPage(req: Request, res: Response) {
      await renderForm(deps, res, idOf(req, instanceAdmin), { certificatePem: "", errors: {} });
    },

    async uploadSubmit(req: Request, res: Response) {
      const id = idOf(req, instanceAdmin);
      const body = bodyOf(req);
      try {
        const result = await uploadCertificate(deps, { actor: actorOf(req), instanceId: id, certificatePem: body.certificatePem, privateKeyPem: body.privateKeyPem });
        flash(req, result.applyError ? "error" : "ok", result.applyError
          ? `The certificate is stored, but the load balancer did not take it yet: ${result.applyError}`
          : `The certificate is uploaded and served; it expires ${result.notAfter.toISOString().slice(0, 10)}.`);
        return res.redirect(`/admin/instances/${id}/certificate`);
      } catch (err) {
        if (!(err instanceof AppError) || !err.details.fields) throw err;
        const certificatePem = typeof body.certificatePem === "string" ? body.certificatePem : "";
        return renderForm(deps, res, id, { certificatePem, errors: err.details.fields }, err.status);
      }
    },
  };
}
