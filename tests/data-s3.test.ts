// The storage adapter against a real S3 REST server (s3rver, see tests/helpers/s3-server.ts for what
// it does not check) with the real @aws-sdk/client-s3; AWS's refusals that s3rver cannot produce
// come from a small HTTP server answering as AWS documents (ErrorResponses: <Error><Code>…).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetBucketCorsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3Adapter, originMatches } from "../src/adapters/data/s3.js";
import { DataServiceError, type InstanceDataPlan } from "../src/adapters/data/port.js";
import { retryable } from "../src/jobs/retry.js";
import { createDataAdapter } from "../src/adapters/data/factory.js";
import { startS3Server, type S3Server } from "./helpers/s3-server.js";
import { serveFake, type FakeHttp } from "./helpers/http-fake.js";
import { freePort } from "./helpers/redis-server.js";

const ORIGINS = ["https://lms.acme.test", "https://studio.acme.test"];

function planFor(bucket: string, corsOrigins = ORIGINS): InstanceDataPlan {
  return {
    owner: "acme",
    mysql: { databases: [], users: [] },
    mongodb: { databases: [], users: [] },
    storage: { bucket, corsOrigins },
  };
}

const CORS_FIX = "The next launch sets the bucket's rules; a service without CORS per bucket (community MinIO) takes the origins in its own settings (mc admin config set <alias> api cors_allow_origin=…)";

/**
 * s3rver behind a proxy that answers what `answer` returns for a request (a status and an S3 error
 * code), and passes every other request through untouched.
 */
async function proxyAnswering(target: string, answer: (method: string, url: URL) => [number, string, string] | null): Promise<{ endpoint: string; close(): Promise<void> }> {
  const to = new URL(target);
  const proxy = http.createServer((req, res) => {
    const said = answer(req.method ?? "GET", new URL(req.url ?? "/", "http://x"));
    if (said) {
      req.resume();
      res.writeHead(said[0], { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${said[1]}</Code><Message>${said[2]}</Message></Error>`);
      return;
    }
    req.pipe(http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    }));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

async function refusal(run: () => Promise<unknown>): Promise<DataServiceError> {
  const err = await run().then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DataServiceError);
  return err as DataServiceError;
}

let s3: S3Server;
beforeAll(async () => { s3 = await startS3Server(); });
afterAll(async () => { await s3?.close(); });

describe("S3 adapter on s3rver", () => {
  it("checks the keys, makes the bucket with CORS twice without harm, sizes it and drops it with its objects", async () => {
    const adapter = createS3Adapter(s3.settings, s3.credentials);
    const sdk = new S3Client({ endpoint: s3.settings.endpoint, region: "us-east-1", forcePathStyle: true, credentials: s3.credentials });
    try {
      expect((await adapter.check()).version).toMatch(/buckets visible/);
      const plan = planFor("ocim-acme-0123abcd");
      expect(await adapter.inspect(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "missing" }]);
      expect(await adapter.ensure(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 0 }]);
      expect(await adapter.ensure(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 0 }]);

      const cors = await sdk.send(new GetBucketCorsCommand({ Bucket: "ocim-acme-0123abcd" }));
      expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual(["https://lms.acme.test", "https://studio.acme.test"]);
      expect(cors.CORSRules?.[0]?.AllowedMethods?.sort()).toEqual(["GET", "HEAD", "POST", "PUT"]);

      // A domain added to the instance since: Check now (inspect) says the bucket's CORS leaves it
      // out, and says it again on the next check; the next ensure (a launch) puts it in.
      const grown = planFor("ocim-acme-0123abcd", [...ORIGINS, "https://preview.acme.test"]);
      const gap = [{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 0,
        detail: `CORS does not allow https://preview.acme.test: browsers on the site cannot use the bucket from there. ${CORS_FIX}` }];
      expect(await adapter.inspect(grown)).toEqual(gap);
      expect(await adapter.inspect(grown)).toEqual(gap);
      expect(await adapter.ensure(grown)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 0 }]);
      expect(await adapter.inspect(grown)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 0 }]);

      await sdk.send(new PutObjectCommand({ Bucket: "ocim-acme-0123abcd", Key: "a.txt", Body: "x".repeat(1000) }));
      await sdk.send(new PutObjectCommand({ Bucket: "ocim-acme-0123abcd", Key: "dir/b.bin", Body: Buffer.alloc(234) }));
      expect(await adapter.inspect(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "exists", sizeBytes: 1234 }]);

      expect(await adapter.drop(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "missing" }]);
      expect(await adapter.inspect(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "missing" }]);
      expect(await adapter.drop(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-0123abcd", status: "missing" }]);
    } finally {
      sdk.destroy();
      await adapter.close();
    }
  });

  it("on a service without bucket CORS (community MinIO: 501 NotImplemented), makes the bucket and says what to set instead, on every check", async () => {
    // Community MinIO answers PutBucketCors 501 NotImplemented (https://github.com/minio/minio/issues/21332)
    // and GetBucketCors NoSuchCORSConfiguration for every bucket (a stub: cmd/dummy-handlers.go),
    // which s3rver behind the proxy answers for a bucket without rules.
    const minio = await proxyAnswering(s3.settings.endpoint!, (method, url) =>
      method === "PUT" && url.searchParams.has("cors") ? [501, "NotImplemented", "A header you provided implies functionality that is not implemented"] : null);
    try {
      const plan = planFor("ocim-acme-minio0001");
      const adapter = createS3Adapter({ ...s3.settings, endpoint: minio.endpoint }, s3.credentials);
      const [state] = await adapter.ensure(plan);
      expect(state).toMatchObject({ kind: "bucket", name: "ocim-acme-minio0001", status: "exists" });
      expect(state!.detail).toBe(
        "this service sets no CORS per bucket (PutBucketCors is not implemented there): allow https://lms.acme.test, https://studio.acme.test in its own settings (MinIO: mc admin config set <alias> api cors_allow_origin=…)");
      // Check now asks again: the note is not lost (it was, before GetBucketCors was read).
      expect(await adapter.inspect(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-minio0001", status: "exists", sizeBytes: 0,
        detail: `CORS does not allow https://lms.acme.test, https://studio.acme.test: browsers on the site cannot use the bucket from there. ${CORS_FIX}` }]);
      await adapter.close();
      // The bucket is really there (asked without the proxy).
      expect(await createS3Adapter(s3.settings, s3.credentials).inspect(plan)).toMatchObject([{ status: "exists" }]);
    } finally {
      await minio.close();
    }
  });

  it("keeps the bucket's state when the keys may not read its CORS (AccessDenied), and says the CORS was not checked", async () => {
    const plan = planFor("ocim-acme-nocorsread");
    await createS3Adapter(s3.settings, s3.credentials).ensure(plan);
    // AWS answers a GetBucketCors the key's policy does not grant (s3:GetBucketCORS) 403 AccessDenied.
    const strict = await proxyAnswering(s3.settings.endpoint!, (method, url) =>
      method === "GET" && url.searchParams.has("cors") ? [403, "AccessDenied", "Access Denied"] : null);
    try {
      const adapter = createS3Adapter({ ...s3.settings, endpoint: strict.endpoint }, s3.credentials);
      expect(await adapter.inspect(plan)).toEqual([{ kind: "bucket", name: "ocim-acme-nocorsread", status: "exists", sizeBytes: 0,
        detail: "CORS not checked: these keys may not read the bucket's CORS rules (GetBucketCors: AccessDenied)" }]);
      // Kept data (its instance deleted) has no site: its bucket's CORS is not asked about.
      expect(await adapter.inspect(planFor("ocim-acme-nocorsread", []))).toEqual([{ kind: "bucket", name: "ocim-acme-nocorsread", status: "exists", sizeBytes: 0 }]);
      await adapter.close();
    } finally {
      await strict.close();
    }
  });

  it("matches an origin against a CORS rule's AllowedOrigins as S3 does: exactly, or with its one * wildcard", () => {
    expect(originMatches("https://lms.acme.test", "https://lms.acme.test")).toBe(true);
    expect(originMatches("https://lms.acme.test", "https://studio.acme.test")).toBe(false);
    expect(originMatches("*", "https://lms.acme.test")).toBe(true);
    expect(originMatches("https://*.acme.test", "https://studio.acme.test")).toBe(true);
    expect(originMatches("https://*.acme.test", "http://studio.acme.test")).toBe(false);
    expect(originMatches("https://*.acme.test", "https://acme.test")).toBe(false);
    expect(originMatches("https://*.acme.test", "https://studio.acme.test.evil.example")).toBe(false);
  });

  it("refuses a wrong access key id for good, naming the endpoint and never the keys", async () => {
    const adapter = createS3Adapter(s3.settings, { accessKeyId: "NOT-A-KEY-ID", secretAccessKey: "very-secret-value" });
    try {
      const err = await refusal(() => adapter.check());
      expect(err.transient).toBe(false);
      expect(retryable(err)).toBe(false);
      expect(err.message).toContain(s3.settings.endpoint);
      expect(err.message).toContain("InvalidAccessKeyId");
      expect(err.message).not.toContain("very-secret-value");
      const onBucket = await refusal(() => adapter.ensure(planFor("ocim-acme-0123abcd")));
      expect(onBucket.message).toContain("ocim-acme-0123abcd");
    } finally {
      await adapter.close();
    }
  });
});

describe("S3 adapter on AWS's error answers", () => {
  let fake: FakeHttp;
  let answer = { status: 403, code: "SignatureDoesNotMatch" };
  beforeAll(async () => {
    fake = await serveFake((_req, res) => {
      res.writeHead(answer.status, { "content-type": "application/xml", server: "AmazonS3" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>as AWS says it</Message><RequestId>R1</RequestId></Error>`);
    });
  });
  afterAll(async () => { await fake?.stop(); });

  it("a wrong secret (SignatureDoesNotMatch) is a refusal; a 503 and a refused connection are transient", async () => {
    const adapter = createS3Adapter({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true }, { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "wrong-secret-value" });
    const closed = createS3Adapter({ endpoint: `http://127.0.0.1:${await freePort()}`, region: "us-east-1", forcePathStyle: true }, s3.credentials);
    try {
      answer = { status: 403, code: "SignatureDoesNotMatch" };
      const wrong = await refusal(() => adapter.check());
      expect(wrong.transient).toBe(false);
      expect(wrong.message).toContain("SignatureDoesNotMatch");
      expect(wrong.message).toContain(fake.url);
      expect(wrong.message).not.toContain("wrong-secret-value");
      expect(wrong.message).not.toContain("AKIAEXAMPLE");
      const onBucket = await refusal(() => adapter.ensure(planFor("ocim-acme-0123abcd")));
      expect([onBucket.transient, onBucket.message]).toEqual([false, `Storage ${fake.url}: HeadBucket ocim-acme-0123abcd refused (HTTP 403): the keys are wrong or may not use this bucket, or another account owns it.`]);

      answer = { status: 503, code: "ServiceUnavailable" };
      const down = await refusal(() => adapter.check());
      expect(down.transient).toBe(true);
      expect(retryable(down)).toBe(true);

      const refused = await refusal(() => closed.check());
      expect(refused.transient).toBe(true);
      expect(refused.message).toContain("ECONNREFUSED");
    } finally {
      await adapter.close();
      await closed.close();
    }
  });
});

describe("createDataAdapter", () => {
  it("builds the storage adapter from a row's JSON and names bad keys, never their values", async () => {
    const adapter = createDataAdapter("s3", { ...s3.settings }, { ...s3.credentials });
    expect((await adapter.check()).version).toMatch(/buckets visible/);
    await adapter.close();
    const bad = await refusal(async () => createDataAdapter("s3", { endpoint: "ftp-ish", forcePathStyle: "yes" }, { accessKeyId: "AKIDVALUE" }));
    expect(bad.transient).toBe(false);
    expect(bad.message).toBe('The Storage (S3) settings are not valid: "endpoint" must be an http(s) URL; "forcePathStyle" must be true or false.');
    const creds = await refusal(async () => createDataAdapter("s3", {}, { accessKeyId: "AKIDVALUE" }));
    expect(creds.message).toBe('The Storage (S3) credentials are not valid: "secretAccessKey" is missing.');
  });
});
