// A real S3 REST server for the tests: s3rver (koa, files under a temp directory) on an ephemeral
// port, with its one account (access key "S3RVER", secret "S3RVER"). What it does not do, and the
// tests must not pretend it does: it accepts any SigV4 signature (lib/middleware/authentication.js:
// "Signature version 4 calculation is unimplemented"), so a wrong *secret* passes there, while a
// wrong access key id is refused with InvalidAccessKeyId; it has no versioning (GetBucketVersioning
// answers NotImplemented) and one account (CreateBucket on an existing bucket is BucketAlreadyExists).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import S3rver from "s3rver";
import type { S3Credentials, S3Settings } from "../../src/adapters/data/s3.js";

export interface S3Server {
  settings: S3Settings;
  credentials: S3Credentials;
  close(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ocim-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, resetOnClose: true });
  const { port } = (await server.run()) as AddressInfo;
  // A test may stop it early (a service that went away); the afterAll's close is then a no-op.
  let closed: Promise<void> | null = null;
  return {
    settings: { endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", forcePathStyle: true },
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    close() {
      closed ??= server.close().then(() => fs.rmSync(directory, { recursive: true, force: true }));
      return closed;
    },
  };
}
