// A certificate authority of the test's own, made with the openssl command line: what an operator
// brings when a domain cannot use ACME (a certificate bought elsewhere, an internal CA).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface IssuedCertificate {
  /** The leaf then the CA (a chain as a vendor delivers it). */
  chainPem: string;
  keyPem: string;
}

export interface TestCa {
  /** The CA's certificate, for curl --cacert. */
  rootFile: string;
  issue(domains: string[], opts?: { days?: number; keyType?: "ec" | "rsa" }): IssuedCertificate;
  dispose(): void;
}

export function createTestCa(name = "Ocim Test CA"): TestCa {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-ca-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650", "-subj", `/CN=${name}`, "-keyout", "ca.key", "-out", "ca.pem");
  let serial = 0;
  return {
    rootFile: path.join(dir, "ca.pem"),
    issue(domains, opts = {}) {
      const n = ++serial;
      const keyArgs = opts.keyType === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
      ssl("req", "-new", ...keyArgs, "-nodes", "-subj", `/CN=${domains[0]}`, "-addext", `subjectAltName=${domains.map((d) => `DNS:${d}`).join(",")}`, "-keyout", `leaf${n}.key`, "-out", `leaf${n}.csr`);
      ssl("x509", "-req", "-in", `leaf${n}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", String(1000 + n), "-days", String(opts.days ?? 90), "-copy_extensions", "copy", "-out", `leaf${n}.pem`);
      return { chainPem: readFileSync(path.join(dir, `leaf${n}.pem`), "utf8") + readFileSync(path.join(dir, "ca.pem"), "utf8"), keyPem: readFileSync(path.join(dir, `leaf${n}.key`), "utf8") };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

