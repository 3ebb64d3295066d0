// What the instance-data domain (src/domain/data/) needs from a shared service (DESIGN §5b): one
// adapter per kind (mysql.ts, mongodb.ts, s3.ts here), each built from a DataService row's settings
// and decrypted credentials. Every method is idempotent and says per resource what it found.

export type DataServiceKind = "mysql" | "mongodb" | "s3";
export type DataResourceKind = "database" | "user" | "bucket";

/** What the service said about one database, user or bucket. */
export interface ResourceState {
  kind: DataResourceKind;
  name: string;
  status: "exists" | "missing" | "error";
  /** What failed, in the service's words (never a password), when status is error; what is not as it should be on one that exists (a bucket's CORS). */
  detail?: string;
  /** Bytes, when the service reports a size (databases, buckets). */
  sizeBytes?: number | null;
}

export interface DataServiceAdapter {
  /** Connects with the admin credentials and checks they may do what ensure() and drop() need (MySQL: by doing it once on a database and user of its own; MongoDB and S3: one harmless command); throws DataServiceError saying what failed. */
  check(): Promise<{ version: string }>;
  /** Creates what is missing of the plan's part for this kind (databases, users and grants, bucket and CORS); re-running changes nothing. */
  ensure(plan: InstanceDataPlan): Promise<ResourceState[]>;
  /** Reports what of the plan exists, with sizes; changes nothing. */
  inspect(plan: InstanceDataPlan): Promise<ResourceState[]>;
  /** Drops the plan's databases, users and bucket (with its objects). Reports what was there (now dropped) as "exists", what was already gone as "missing". */
  drop(plan: InstanceDataPlan): Promise<ResourceState[]>;
  close(): Promise<void>;
}

/** Where a save check's own `ocim_check_…` database and user are when it could not drop them. */
export function probeLeftBehind(probe: string): string {
  return `${probe} is left on the server: drop it by hand`;
}

/**
 * A failed save check's clean-up: each drop in turn (null: it made nothing to drop), whatever the
 * others did; true when everything it made went. The failure to report is the one that stopped it.
 */
export async function droppedAll(drops: (null | (() => Promise<unknown>))[]): Promise<boolean> {
  let all = true;
  for (const drop of drops) if (drop && !(await drop().then(() => true, () => false))) all = false;
  return all;
}

/**
 * A service refused or could not be reached. `transient`: a timeout or refused connection that may
 * pass (retried with backoff); false: bad credentials, missing privilege, bad TLS (the same on every try).
 */
export class DataServiceError extends Error {
  constructor(message: string, readonly transient: boolean) {
    super(message);
    this.name = "DataServiceError";
  }
}

/**
 * Everything an instance keeps on the shared services, with the credentials its appservers use.
 * Built by src/domain/data/plan.ts from the instance's slug and master key: the same names and
 * passwords for every appserver of the instance, and on every call.
 */
export interface InstanceDataPlan {
  /** The instance's slug: every name below starts with its prefix form. */
  owner: string;
  mysql: {
    databases: { name: string; /** what Open edX calls it: edxapp, edxapp_csmh, ecommerce… */ role: string }[];
    /** One user per service; `databases` are the only ones it is granted (ALL on each). */
    users: { name: string; password: string; role: string; databases: string[] }[];
  };
  mongodb: {
    databases: { name: string; role: string }[];
    /** Each user is created in, and granted readWrite on, its own database (authSource = that database). */
    users: { name: string; password: string; role: string; database: string }[];
  };
  storage: {
    bucket: string;
    /** Origins the browser may use the bucket from (the LMS and Studio, https). */
    corsOrigins: string[];
  };
}
