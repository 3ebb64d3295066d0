// The playbook variables that point an appserver at its instance's shared MySQL, MongoDB and
// storage (DESIGN §5b), with the names and derived passwords of the instance's data plan. Plain
// values in, variables out: the launch loads the services and passes what it read.
// Without a service of a kind, nothing of that kind is set and the playbook keeps its local server.
// There is no switch in openedx/configuration's variables to skip the local MySQL or MongoDB
// (no INSTALL_MYSQL-like name exists in data/openedx-configuration-vars.tsv): openedx_native.yml
// runs its edxlocal role `when: EDXAPP_MYSQL_HOST == 'localhost'` and its mongo role `when:
// "'localhost' in EDXAPP_MONGO_HOSTS"`, so pointing the hosts at the shared servers is the switch.
import type { InstanceDataPlan } from "../../adapters/data/port.js";

export interface DatabaseEndpoint {
  host: string;
  port: number;
  tls: boolean;
}

export interface StorageEndpoint {
  /** Empty for AWS S3 itself; an S3-compatible service's URL (MinIO, Ceph, Swift's S3 API) otherwise. */
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  /** The storage account's keys: every instance on one account shares them (docs/security.md). */
  accessKeyId: string;
  secretAccessKey: string;
}

export interface DataEndpoints {
  mysql?: DatabaseEndpoint;
  mongodb?: DatabaseEndpoint;
  storage?: StorageEndpoint;
}

export function dataVariables(plan: InstanceDataPlan, services: DataEndpoints): Record<string, unknown> {
  return {
    ...(services.mysql ? mysqlVariables(plan, services.mysql) : {}),
    ...(services.mongodb ? mongodbVariables(plan, services.mongodb) : {}),
    ...(services.storage ? storageVariables(plan, services.storage) : {}),
  };
}

/** The plan's database or user of a role (edxapp, forum…). */
export function byRole<T extends { role: string }>(list: T[], role: string): T {
  const found = list.find((x) => x.role === role);
  if (!found) throw new Error(`the instance data plan has no ${role}`);
  return found;
}

function mysqlVariables(plan: InstanceDataPlan, s: DatabaseEndpoint): Record<string, unknown> {
  const db = (role: string) => byRole(plan.mysql.databases, role).name;
  const user = (role: string) => byRole(plan.mysql.users, role);
  const edxapp = user("edxapp");
  const ecommerce = user("ecommerce");
  const discovery = user("discovery");
  const xqueue = user("xqueue");
  const notes = user("notes");
  const credentials = user("credential");
  // Ecommerce, discovery and credentials have no port variable of their own: their Django
  // settings take MySQL's 3306, so a shared server on another port needs their *_DATABASES
  // overridden in the instance's extra variables. TLS options are not set here either.
  return {
    EDXAPP_MYSQL_HOST: s.host,
    EDXAPP_MYSQL_PORT: s.port,
    EDXAPP_MYSQL_DB_NAME: db("edxapp"),
    EDXAPP_MYSQL_USER: edxapp.name,
    EDXAPP_MYSQL_PASSWORD: edxapp.password,
    // The read replica is the same server: without these, the defaults name a local database.
    EDXAPP_MYSQL_REPLICA_HOST: s.host,
    EDXAPP_MYSQL_REPLICA_PORT: s.port,
    EDXAPP_MYSQL_REPLICA_DB_NAME: db("edxapp"),
    EDXAPP_MYSQL_REPLICA_USER: edxapp.name,
    EDXAPP_MYSQL_REPLICA_PASSWORD: edxapp.password,
    EDXAPP_MYSQL_CSMH_HOST: s.host,
    EDXAPP_MYSQL_CSMH_PORT: s.port,
    EDXAPP_MYSQL_CSMH_DB_NAME: db("edxapp_csmh"),
    EDXAPP_MYSQL_CSMH_USER: edxapp.name,
    EDXAPP_MYSQL_CSMH_PASSWORD: edxapp.password,
    // edx-platform's migrations run as the migrate user: the edxapp user owns both its databases.
    COMMON_MYSQL_MIGRATE_USER: edxapp.name,
    COMMON_MYSQL_MIGRATE_PASS: edxapp.password,
    ECOMMERCE_DATABASE_HOST: s.host,
    ECOMMERCE_DATABASE_NAME: db("ecommerce"),
    ECOMMERCE_DATABASE_USER: ecommerce.name,
    ECOMMERCE_DATABASE_PASSWORD: ecommerce.password,
    DISCOVERY_MYSQL: s.host,
    DISCOVERY_MYSQL_REPLICA_HOST: s.host,
    DISCOVERY_DEFAULT_DB_NAME: db("discovery"),
    DISCOVERY_MYSQL_USER: discovery.name,
    DISCOVERY_MYSQL_PASSWORD: discovery.password,
    XQUEUE_MYSQL_HOST: s.host,
    XQUEUE_MYSQL_PORT: s.port,
    XQUEUE_MYSQL_DB_NAME: db("xqueue"),
    XQUEUE_MYSQL_USER: xqueue.name,
    XQUEUE_MYSQL_PASSWORD: xqueue.password,
    EDX_NOTES_API_MYSQL_HOST: s.host,
    EDX_NOTES_API_MYSQL_PORT: s.port,
    EDX_NOTES_API_MYSQL_DB_NAME: db("notes"),
    EDX_NOTES_API_MYSQL_DB_USER: notes.name,
    EDX_NOTES_API_MYSQL_DB_PASS: notes.password,
    CREDENTIALS_MYSQL_HOST: s.host,
    CREDENTIALS_DEFAULT_DB_NAME: db("credentials"),
    CREDENTIALS_MYSQL_USER: credentials.name,
    CREDENTIALS_MYSQL_PASSWORD: credentials.password,
  };
}

function mongodbVariables(plan: InstanceDataPlan, s: DatabaseEndpoint): Record<string, unknown> {
  const edxapp = byRole(plan.mongodb.users, "edxapp");
  const forum = byRole(plan.mongodb.users, "forum");
  // Each user lives in its own database (port.ts), so that database is also where it authenticates.
  // Lists, as the original Ocim sent them: pymongo takes a list of hosts, and the native playbook's
  // `'localhost' in EDXAPP_MONGO_HOSTS` reads a list as well as a string.
  return {
    EDXAPP_MONGO_HOSTS: [s.host],
    EDXAPP_MONGO_PORT: s.port,
    EDXAPP_MONGO_DB_NAME: edxapp.database,
    EDXAPP_MONGO_AUTH_DB: edxapp.database,
    EDXAPP_MONGO_USER: edxapp.name,
    EDXAPP_MONGO_PASSWORD: edxapp.password,
    EDXAPP_MONGO_USE_SSL: s.tls,
    FORUM_MONGO_HOSTS: [s.host],
    FORUM_MONGO_PORT: s.port,
    FORUM_MONGO_DATABASE: forum.database,
    FORUM_MONGO_AUTH_DB: forum.database,
    FORUM_MONGO_USER: forum.name,
    FORUM_MONGO_PASSWORD: forum.password,
    FORUM_MONGO_USE_SSL: s.tls,
  };
}

const S3_STORAGE = "storages.backends.s3boto3.S3Boto3Storage";

function storageVariables(plan: InstanceDataPlan, s: StorageEndpoint): Record<string, unknown> {
  const bucket = plan.storage.bucket;
  // The domain files are served from: the bucket's own host on AWS, the endpoint's host followed
  // by the bucket when the service only takes paths (MinIO, Ceph and Swift usually do).
  const endpointHost = s.endpoint ? new URL(s.endpoint).host : "";
  const customDomain = !endpointHost ? `${bucket}.s3.amazonaws.com` : s.forcePathStyle ? `${endpointHost}/${bucket}` : `${bucket}.${endpointHost}`;
  // edx-platform copies the settings it does not know from its YAML into Django's, where
  // django-storages reads these: the configuration repo has no variables of its own for them.
  const boto = {
    AWS_S3_REGION_NAME: s.region,
    ...(s.endpoint ? { AWS_S3_ENDPOINT_URL: s.endpoint } : {}),
    ...(s.forcePathStyle ? { AWS_S3_ADDRESSING_STYLE: "path" } : {}),
  };
  return {
    EDXAPP_DEFAULT_FILE_STORAGE: S3_STORAGE,
    EDXAPP_AWS_ACCESS_KEY_ID: s.accessKeyId,
    EDXAPP_AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
    EDXAPP_AWS_STORAGE_BUCKET_NAME: bucket,
    EDXAPP_AWS_S3_CUSTOM_DOMAIN: customDomain,
    EDXAPP_AWS_QUERYSTRING_AUTH: true,
    EDXAPP_FILE_UPLOAD_STORAGE_BUCKET_NAME: bucket,
    EDXAPP_GRADE_STORAGE_CLASS: S3_STORAGE,
    EDXAPP_GRADE_STORAGE_KWARGS: { bucket_name: bucket, location: "grades" },
    EDXAPP_LMS_ENV_EXTRA: boto,
    EDXAPP_CMS_ENV_EXTRA: boto,
  };
}
