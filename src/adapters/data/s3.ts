// The storage adapter: one bucket per instance on S3-compatible storage (AWS S3, MinIO, Ceph RGW,
// OpenStack Swift's S3 API), with CORS for the site's origins (bucketOrigins). Settings are plain JSON shown in the
// admin area; credentials (access keys) are decrypted only to build the client here.
// API reference: https://docs.aws.amazon.com/AmazonS3/latest/API/ (CreateBucket, PutBucketCors,
// GetBucketCors, HeadBucket, ListObjectsV2, ListObjectVersions, DeleteObjects, DeleteBucket, ListBuckets).
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetBucketCorsCommand, GetBucketVersioningCommand, HeadBucketCommand,
  ListBucketsCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketCorsCommand, S3Client, S3ServiceException,
  type CORSRule, type ObjectIdentifier,
} from "@aws-sdk/client-s3";
import { z } from "zod";
import { DataServiceError, type DataServiceAdapter, type InstanceDataPlan, type ResourceState } from "./port.js";

export const s3SettingsSchema = z.object({
  /** The S3 API's base URL (MinIO, Ceph, Swift…); unset = AWS S3 for the region. */
  endpoint: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
  region: z.string().min(1).default("us-east-1"),
  /** https://endpoint/bucket rather than https://bucket.endpoint: what MinIO and most self-hosted services need. */
  forcePathStyle: z.boolean().default(false),
});

export const s3CredentialsSchema = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
});

export type S3Settings = z.infer<typeof s3SettingsSchema>;
export type S3Credentials = z.infer<typeof s3CredentialsSchema>;

/** The methods the browser needs on the bucket (Open edX uploads from the LMS and Studio pages). */
const CORS_METHODS = ["GET", "PUT", "POST", "HEAD"];
/** Where community MinIO, which keeps no CORS per bucket, takes the origins instead: its own setting. */
const MINIO_CORS_SETTING = "mc admin config set <alias> api cors_allow_origin=…";
/** What to do about origins the bucket's CORS leaves out (see originsNotAllowed). */
const CORS_FIX = `The next launch sets the bucket's rules; a service without CORS per bucket (community MinIO) takes the origins in its own settings (${MINIO_CORS_SETTING})`;

/**
 * Whether a CORS rule's AllowedOrigins entry admits `origin`: S3 allows one `*` wildcard in it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html, AllowedOrigin).
 */
export function originMatches(pattern: string, origin: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === origin;
  const [head, tail] = [pattern.slice(0, star), pattern.slice(star + 1)];
  return origin.length >= head.length + tail.length && origin.startsWith(head) && origin.endsWith(tail);
}

/** Every wait has a deadline (STYLE 7): a silent endpoint fails the call rather than hanging a step. */
const CONNECT_MS = 5_000;
const REQUEST_MS = 30_000;
/** S3 error codes that say the caller's keys or rights are wrong: the same on every try. */
const REFUSALS = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "AccountProblem", "InvalidBucketName"]);

function errorCode(err: unknown): string {
  return err instanceof Error ? ((err as { Code?: string }).Code ?? err.name) : "";
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

export function createS3Adapter(settings: S3Settings, credentials: S3Credentials): DataServiceAdapter {
  const where = settings.endpoint ?? `AWS S3 (${settings.region})`;
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    requestHandler: { connectionTimeout: CONNECT_MS, requestTimeout: REQUEST_MS },
    // The SDK's default CRC32 checksums (since 3.729) are refused by several S3-compatible services
    // (aws/aws-sdk-js-v3#6810): send them only where the API requires one.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
  });

  /** The service's refusal or outage as a DataServiceError naming the endpoint and bucket (never a key). */
  function fail(err: unknown, what: string): never {
    if (err instanceof DataServiceError) throw err;
    const code = errorCode(err);
    const status = statusOf(err);
    const server = err instanceof S3ServiceException ? err.$fault === "server" : false;
    const transient = !REFUSALS.has(code) && (status === undefined || status >= 500 || status === 429 || server || code === "SlowDown" || code === "RequestTimeout");
    // A network error's message already names its code ("connect ECONNREFUSED 10.0.0.5:9000").
    const reason = err instanceof S3ServiceException ? `${code}${status ? ` (HTTP ${status})` : ""}: ${err.message}` : ((err as Error)?.message ?? String(err));
    throw new DataServiceError(`Storage ${where}: ${what} failed: ${reason}`, transient);
  }

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      fail(err, what);
    }
  }

  /** Whether the bucket is there and ours: 404 → false; 403 → someone else's (a refusal). */
  async function bucketExists(bucket: string): Promise<boolean> {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return false;
      // A HEAD answer has no body to say which: wrong keys, missing rights, or another account's bucket.
      if (status === 403) throw new DataServiceError(`Storage ${where}: HeadBucket ${bucket} refused (HTTP 403): the keys are wrong or may not use this bucket, or another account owns it.`, false);
      fail(err, `HeadBucket ${bucket}`);
    }
  }

  async function totalSize(bucket: string): Promise<number> {
    let size = 0;
    let token: string | undefined;
    do {
      const page = await call(`ListObjectsV2 ${bucket}`, () => client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })));
      for (const o of page.Contents ?? []) size += o.Size ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return size;
  }

  /** Whether the bucket keeps versions; services that do not implement versioning keep none. */
  async function versioned(bucket: string): Promise<boolean> {
    try {
      const v = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      return v.Status === "Enabled" || v.Status === "Suspended";
    } catch (err) {
      if (errorCode(err) === "NotImplemented" || statusOf(err) === 501) return false;
      fail(err, `GetBucketVersioning ${bucket}`);
    }
  }

  /** One page of what must go before DeleteBucket: every version and delete marker, or every object. */
  async function nextBatch(bucket: string, withVersions: boolean): Promise<ObjectIdentifier[]> {
    if (withVersions) {
      const page = await call(`ListObjectVersions ${bucket}`, () => client.send(new ListObjectVersionsCommand({ Bucket: bucket })));
      return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    }
    const page = await call(`ListObjectsV2 ${bucket}`, () => client.send(new ListObjectsV2Command({ Bucket: bucket })));
    return (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
  }

  async function emptyBucket(bucket: string): Promise<void> {
    const withVersions = await versioned(bucket);
    for (;;) {
      const batch = await nextBatch(bucket, withVersions);
      if (!batch.length) return;
      const out = await call(`DeleteObjects ${bucket}`, () => client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })));
      const failed = out.Errors ?? [];
      if (failed.length) throw new DataServiceError(`Storage ${where}: could not delete ${failed.length} object(s) of bucket ${bucket}: ${failed[0]!.Code ?? ""} ${failed[0]!.Message ?? ""}`.trim(), false);
    }
  }

  /**
   * Which of `origins` the bucket's CORS rules do not let a browser use it from (GET, PUT, POST and
   * HEAD, as ensure() sets them). No rules at all is S3's NoSuchCORSConfiguration (404); community
   * MinIO answers that for every bucket, its GetBucketCors being a stub (cmd/dummy-handlers.go), as
   * its CORS is the server's own setting. A service that has no GetBucketCors (501) is treated the
   * same: nothing on the bucket allows them. Null when the keys may not read the rules (AccessDenied):
   * the bucket's state does not depend on them. No origins (kept data, whose instance is gone:
   * owner-data.ts) leaves nothing to ask about.
   */
  async function originsNotAllowed(bucket: string, origins: string[]): Promise<string[] | null> {
    if (!origins.length) return [];
    let rules: CORSRule[] = [];
    try {
      rules = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
    } catch (err) {
      const code = errorCode(err);
      if (code === "AccessDenied" || statusOf(err) === 403) return null;
      if (code !== "NoSuchCORSConfiguration" && code !== "NotImplemented" && statusOf(err) !== 501) fail(err, `GetBucketCors ${bucket}`);
    }
    const allows = (rule: CORSRule, origin: string) =>
      CORS_METHODS.every((m) => rule.AllowedMethods?.includes(m)) && (rule.AllowedOrigins ?? []).some((pattern) => originMatches(pattern, origin));
    return origins.filter((origin) => !rules.some((rule) => allows(rule, origin)));
  }

  /** What `originsNotAllowed` found, said for the panel and the launch log; empty when nothing is left out. */
  function corsDetail(left: string[] | null): string {
    if (left === null) return "CORS not checked: these keys may not read the bucket's CORS rules (GetBucketCors: AccessDenied)";
    return left.length ? `CORS does not allow ${left.join(", ")}: browsers on the site cannot use the bucket from there. ${CORS_FIX}` : "";
  }

  /**
   * The bucket as it is, with what is wrong with its CORS in `detail`: for ensure(), what it just
   * learned (`note`: empty when PutBucketCors set the rules, which are not read back, as S3's bucket
   * configurations are only eventually consistent: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel);
   * for inspect ("Check now"), which of the site's `origins` the rules leave out.
   */
  async function state(bucket: string, cors: { note: string } | { origins: string[] }): Promise<ResourceState> {
    if (!(await bucketExists(bucket))) return { kind: "bucket", name: bucket, status: "missing" };
    const ready: ResourceState = { kind: "bucket", name: bucket, status: "exists", sizeBytes: await totalSize(bucket) };
    const detail = "note" in cors ? cors.note : corsDetail(await originsNotAllowed(bucket, cors.origins));
    return detail ? { ...ready, detail } : ready;
  }

  return {
    async check() {
      let server = "";
      const out = await call("ListBuckets", async () => {
        const cmd = new ListBucketsCommand({});
        // S3 has no version call; the Server header says what answers (AmazonS3, MinIO, Ceph…).
        cmd.middlewareStack.add((next) => async (args) => {
          const res = await next(args);
          server = String((res.response as { headers?: Record<string, string> }).headers?.server ?? "");
          return res;
        }, { step: "deserialize" });
        return client.send(cmd);
      });
      return { version: `${server || "S3 API"} (${out.Buckets?.length ?? 0} buckets visible)` };
    },

    async ensure(plan: InstanceDataPlan) {
      const { bucket, corsOrigins } = plan.storage;
      if (!(await bucketExists(bucket))) {
        try {
          await client.send(new CreateBucketCommand({
            Bucket: bucket,
            // Outside us-east-1, AWS wants the region again in the body.
            ...(settings.endpoint || settings.region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: settings.region as never } }),
          }));
        } catch (err) {
          const code = errorCode(err);
          if (code === "BucketAlreadyExists") throw new DataServiceError(`Storage ${where}: bucket ${bucket} already exists and belongs to another account.`, false);
          if (code !== "BucketAlreadyOwnedByYou") fail(err, `CreateBucket ${bucket}`);
        }
      }
      // Community MinIO keeps no CORS per bucket: it answers PutBucketCors 501 NotImplemented, its CORS
      // being the server's own setting (https://github.com/minio/minio/issues/21332). The bucket is
      // ready all the same; its state says what to set there instead.
      let corsNote = "";
      try {
        await client.send(new PutBucketCorsCommand({
          Bucket: bucket,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: corsOrigins, AllowedMethods: CORS_METHODS, AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 3000 }] },
        }));
      } catch (err) {
        if (errorCode(err) !== "NotImplemented" && statusOf(err) !== 501) fail(err, `PutBucketCors ${bucket}`);
        corsNote = `this service sets no CORS per bucket (PutBucketCors is not implemented there): allow ${corsOrigins.join(", ")} in its own settings (MinIO: ${MINIO_CORS_SETTING})`;
      }
      return [await state(bucket, { note: corsNote })];
    },

    async inspect(plan: InstanceDataPlan) {
      return [await state(plan.storage.bucket, { origins: plan.storage.corsOrigins })];
    },

    async drop(plan: InstanceDataPlan) {
      const bucket = plan.storage.bucket;
      if (!(await bucketExists(bucket))) return [{ kind: "bucket", name: bucket, status: "missing" }];
      await emptyBucket(bucket);
      await call(`DeleteBucket ${bucket}`, () => client.send(new DeleteBucketCommand({ Bucket: bucket })));
      return [{ kind: "bucket", name: bucket, status: "missing" }];
    },

    async close() {
      client.destroy();
    },
  };
}
