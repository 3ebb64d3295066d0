// An in-test MongoDB stand-in that speaks the real wire protocol, so the real `mongodb` driver
// (7.x) runs against it unchanged. No MongoDB server can be installed on the build machines
// (/work/shared/notes/machine.md), so Ocim's MongoDB adapter is proven against this instead.
//
// What it covers (one standalone server, state in memory):
// - Framing: the 16-byte message header; OP_QUERY (2004) only for the first `isMaster` of a
//   connection, answered with OP_REPLY (1); then OP_MSG (2013) with kind 0 body and kind 1 document
//   sequences, flagBits moreToCome (no reply sent) honoured.
//   Reference: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/ and the
//   driver's node_modules/mongodb/src/cmap/commands.ts (OpQueryRequest, OpMsgRequest, OpReply).
// - Handshake: hello / isMaster (any case) as a standalone with maxWireVersion 17 (MongoDB 6.0),
//   saslSupportedMechs ["SCRAM-SHA-256"] for an existing user, as mongod does; no topologyVersion,
//   so the driver's monitor polls instead of streaming (node_modules/mongodb/src/cmap/connect.ts).
// - SCRAM-SHA-256 (RFC 5802, RFC 7677) through saslStart / saslContinue with real server-side
//   proof checking against StoredKey/ServerKey kept per user (the password itself is not kept),
//   15000 iterations like mongod's default. A wrong password or unknown user gets mongod's
//   `{ ok: 0, errmsg: "Authentication failed.", code: 18, codeName: "AuthenticationFailed" }`.
//   Client side it talks to: node_modules/mongodb/src/cmap/auth/scram.ts (skipEmptyExchange,
//   so the server answers `done: true` on the first saslContinue, as mongod does).
// - Commands: ping, buildInfo, endSessions, createUser, updateUser, dropUser, usersInfo,
//   listDatabases, dbStats, dropDatabase, insert, find (equality filter only).
// - Authorization like mongod: ping/hello/buildInfo/sasl* need no login; anything else without one
//   is code 13 "requires authentication"; a user's roles decide per database (read, readWrite,
//   dbAdmin, userAdmin, dbOwner on their db; readAnyDatabase, readWriteAnyDatabase,
//   dbAdminAnyDatabase, userAdminAnyDatabase, root on admin), refused with code 13 Unauthorized.
//   As in mongod, readWrite does not include dropDatabase (dbAdmin does), and listDatabases for a
//   user without the cluster-wide action lists only the databases it has a role on.
//   Reference: https://www.mongodb.com/docs/manual/reference/built-in-roles/
// - Speculative authentication: the saslStart the driver puts in its first isMaster is answered in
//   the handshake reply, as mongod 4.4+ does, so the driver takes the same path as in production.
//
// - TLS, when given a key and certificate (mongod's --tlsMode requireTLS): the same protocol inside.
//
// What it does NOT do: replica sets, sharding, client certificates, compression (OP_COMPRESSED), SCRAM-SHA-1,
// sessions or transactions beyond accepting lsid, cursors past the first batch,
// update/delete/aggregate, indexes other than the unique _id, and SASLprep beyond NFKC (Ocim's
// derived passwords are ASCII). Sizes are the BSON size of the stored documents, not disk pages.
// One file past 400 lines on purpose: framing, SCRAM and the role table are one server's parts, and
// each is only read together with the others.
import net from "node:net";
import tls from "node:tls";
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { Binary, Long, calculateObjectSize, deserialize, serialize, type Document } from "bson";

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const MORE_TO_COME = 1 << 1;
const CHECKSUM_PRESENT = 1 << 0;
const ITERATIONS = 15000;

export interface MongoRole {
  role: string;
  db: string;
}

interface StoredUser {
  user: string;
  db: string;
  roles: MongoRole[];
  userId: Binary;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

interface Conversation {
  user: StoredUser;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
}

interface Conn {
  id: number;
  user: StoredUser | null;
  conversations: Map<number, Conversation>;
}

class CommandError extends Error {
  constructor(message: string, readonly code: number, readonly codeName: string) {
    super(message);
  }
}

const authFailed = () => new CommandError("Authentication failed.", 18, "AuthenticationFailed");

// Which actions a built-in role grants, and on which database ("*" = every database).
const READ = ["find", "dbStats"];
const READ_WRITE = [...READ, "insert"];
const DB_ADMIN = ["dbStats", "dropDatabase"];
const USER_ADMIN = ["createUser", "updateUser", "dropUser", "viewUser"];
const ROLE_ACTIONS: Record<string, string[] | undefined> = {
  read: READ,
  readWrite: READ_WRITE,
  dbAdmin: DB_ADMIN,
  userAdmin: USER_ADMIN,
  dbOwner: [...READ_WRITE, ...DB_ADMIN, ...USER_ADMIN],
};
const ANY_DATABASE: Record<string, string | undefined> = {
  readAnyDatabase: "read",
  readWriteAnyDatabase: "readWrite",
  dbAdminAnyDatabase: "dbAdmin",
  userAdminAnyDatabase: "userAdmin",
};

function allows(user: StoredUser, action: string, db: string): boolean {
  return user.roles.some((r) => {
    if (r.role === "root" && r.db === "admin") return true;
    const anyDb = r.db === "admin" ? ANY_DATABASE[r.role] : undefined;
    if (anyDb) {
      // The *AnyDatabase roles also carry listDatabases on the cluster.
      return action === "listDatabases" || (ROLE_ACTIONS[anyDb] ?? []).includes(action);
    }
    return r.db === db && (ROLE_ACTIONS[r.role] ?? []).includes(action);
  });
}

function scramKeys(password: string, salt: Buffer) {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    storedKey: createHash("sha256").update(clientKey).digest(),
    serverKey: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

function parseScram(payload: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of payload.split(",")) {
    const m = /^([a-z])=(.*)$/.exec(part);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

const payloadText = (p: unknown) =>
  p instanceof Binary ? Buffer.from(p.buffer.subarray(0, p.position)).toString("utf8") : Buffer.from(p as Uint8Array).toString("utf8");

export interface MongoWireServer {
  port: number;
  host: string;
  /** Every command name received, in order (what the driver and the adapter really sent). */
  commands: string[];
  /** The databases and their collections' documents, for assertions. */
  databases: Map<string, Map<string, Document[]>>;
  /** Users as `db.user` → roles. */
  users(): Record<string, MongoRole[]>;
  close(): Promise<void>;
}

export interface MongoWireServerOptions {
  host?: string;
  /** The first user, created in "admin" (mongod's localhost exception, done up front). */
  admin: { user: string; password: string; roles?: MongoRole[] };
  /** Accept only TLS connections with this PEM key and certificate. */
  tls?: { key: string; cert: string };
}

export async function startMongoWireServer(opts: MongoWireServerOptions): Promise<MongoWireServer> {
  const host = opts.host ?? "127.0.0.1";
  const databases = new Map<string, Map<string, Document[]>>();
  const users = new Map<string, StoredUser>();
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  let nextConnId = 1;
  let nextConversation = 1;

  function putUser(user: string, db: string, password: string, roles: MongoRole[]) {
    const salt = randomBytes(28);
    users.set(`${db}.${user}`, { user, db, roles, userId: new Binary(randomBytes(16), 4), salt, ...scramKeys(password, salt) });
  }
  putUser(opts.admin.user, "admin", opts.admin.password, opts.admin.roles ?? [{ role: "root", db: "admin" }]);

  function hello(cmd: Document, conn: Conn): Document {
    const reply: Document = {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn.id,
      minWireVersion: 0,
      maxWireVersion: 17,
      readOnly: false,
    };
    if (typeof cmd.saslSupportedMechs === "string" && users.has(cmd.saslSupportedMechs)) {
      reply.saslSupportedMechs = ["SCRAM-SHA-256"];
    }
    // Speculative authentication (MongoDB 4.4+, the driver's ScramSHA.prepare): the handshake carries
    // the saslStart, and the reply its answer. A refusal is left out of the reply, as mongod does,
    // so the driver runs saslStart itself and gets the refusal there.
    const speculative = cmd.speculativeAuthenticate as Document | undefined;
    if (speculative?.saslStart && typeof speculative.db === "string") {
      try {
        reply.speculativeAuthenticate = saslStart(speculative, speculative.db, conn);
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
      }
    }
    return reply;
  }

  function saslStart(cmd: Document, db: string, conn: Conn): Document {
    if (cmd.mechanism !== "SCRAM-SHA-256") throw authFailed();
    const first = payloadText(cmd.payload);
    if (!first.startsWith("n,,")) throw authFailed();
    const clientFirstBare = first.slice(3);
    const f = parseScram(clientFirstBare);
    const name = (f.n ?? "").replace(/=2C/g, ",").replace(/=3D/g, "=");
    const user = users.get(`${db}.${name}`);
    if (!user || !f.r) throw authFailed();
    const nonce = f.r + randomBytes(24).toString("base64");
    const serverFirst = `r=${nonce},s=${user.salt.toString("base64")},i=${ITERATIONS}`;
    const id = nextConversation++;
    conn.conversations.set(id, { user, clientFirstBare, serverFirst, nonce });
    return { conversationId: id, done: false, payload: new Binary(Buffer.from(serverFirst)) };
  }

  function saslContinue(cmd: Document, conn: Conn): Document {
    const conv = conn.conversations.get(Number(cmd.conversationId));
    conn.conversations.delete(Number(cmd.conversationId));
    if (!conv) throw new CommandError("No SASL session state found", 17, "ProtocolError");
    const final = payloadText(cmd.payload);
    const f = parseScram(final);
    if (f.c !== "biws" || f.r !== conv.nonce || !f.p) throw authFailed();
    const withoutProof = final.slice(0, final.lastIndexOf(",p="));
    const authMessage = `${conv.clientFirstBare},${conv.serverFirst},${withoutProof}`;
    const clientSignature = createHmac("sha256", conv.user.storedKey).update(authMessage).digest();
    const proof = Buffer.from(f.p, "base64");
    if (proof.length !== clientSignature.length) throw authFailed();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
    if (!timingSafeEqual(createHash("sha256").update(clientKey).digest(), conv.user.storedKey)) throw authFailed();
    conn.user = conv.user;
    const serverSignature = createHmac("sha256", conv.user.serverKey).update(authMessage).digest("base64");
    return { conversationId: Number(cmd.conversationId), done: true, payload: new Binary(Buffer.from(`v=${serverSignature}`)) };
  }

  function authorize(conn: Conn, action: string, db: string, name: string) {
    if (!conn.user) throw new CommandError(`Command ${name} requires authentication`, 13, "Unauthorized");
    if (!allows(conn.user, action, db)) {
      throw new CommandError(`not authorized on ${db} to execute command { ${name}: ... }`, 13, "Unauthorized");
    }
  }

  const dbSize = (db: Map<string, Document[]>) =>
    [...db.values()].flat().reduce((n, doc) => n + calculateObjectSize(doc), 0);

  function usersCommand(name: string, cmd: Document, db: string, conn: Conn): Document {
    const target = typeof cmd[name] === "string" ? (cmd[name] as string) : "";
    const key = `${db}.${target}`;
    if (name === "createUser") {
      authorize(conn, "createUser", db, name);
      if (users.has(key)) throw new CommandError(`User "${target}@${db}" already exists`, 51003, "Location51003");
      if (typeof cmd.pwd !== "string" || !cmd.pwd) throw new CommandError("Must provide a 'pwd' field for all user documents", 2, "BadValue");
      putUser(target, db, cmd.pwd, parseRoles(cmd.roles, db));
      return {};
    }
    if (name === "updateUser") {
      authorize(conn, "updateUser", db, name);
      const existing = users.get(key);
      if (!existing) throw new CommandError(`Could not find user "${target}" for db "${db}"`, 11, "UserNotFound");
      const roles = cmd.roles === undefined ? existing.roles : parseRoles(cmd.roles, db);
      if (typeof cmd.pwd === "string") putUser(target, db, cmd.pwd, roles);
      else existing.roles = roles;
      return {};
    }
    if (name === "dropUser") {
      authorize(conn, "dropUser", db, name);
      if (!users.delete(key)) throw new CommandError(`User '${target}@${db}' not found`, 11, "UserNotFound");
      return {};
    }
    // usersInfo: a name, { user, db }, or 1 for every user of this database.
    const spec = cmd.usersInfo as unknown;
    const wanted =
      typeof spec === "string" ? [`${db}.${spec}`]
      : spec && typeof spec === "object" && "user" in spec ? [`${(spec as Document).db ?? db}.${(spec as Document).user}`]
      : [...users.keys()].filter((k) => k.startsWith(`${db}.`));
    for (const k of wanted) authorize(conn, "viewUser", k.slice(0, k.indexOf(".")), name);
    const found = wanted.map((k) => users.get(k)).filter((u): u is StoredUser => !!u);
    return {
      users: found.map((u) => ({ _id: `${u.db}.${u.user}`, userId: u.userId, user: u.user, db: u.db, roles: u.roles, mechanisms: ["SCRAM-SHA-256"] })),
    };
  }

  function parseRoles(roles: unknown, db: string): MongoRole[] {
    if (!Array.isArray(roles)) throw new CommandError("\"roles\" field must be an array", 14, "TypeMismatch");
    return roles.map((r) => (typeof r === "string" ? { role: r, db } : { role: String(r.role), db: String(r.db) }));
  }

  function dataCommand(name: string, cmd: Document, db: string, conn: Conn, sequences: Map<string, Document[]>): Document {
    if (name === "listDatabases") {
      if (!conn.user) throw new CommandError("Command listDatabases requires authentication", 13, "Unauthorized");
      const user = conn.user;
      const all = allows(user, "listDatabases", "admin");
      // mongod always has admin (its system.users), config and local, listed with the others.
      const system = ["admin", "config", "local"].filter((name) => !databases.has(name)).map((name) => ({ name, sizeOnDisk: 40960, empty: false }));
      const list = [...system, ...[...databases.entries()].map(([name, d]) => ({ name, sizeOnDisk: dbSize(d), empty: false }))]
        .filter(({ name }) => all || user.roles.some((r) => r.db === name));
      return { databases: list, totalSize: list.reduce((n, d) => n + d.sizeOnDisk, 0) };
    }
    if (name === "dbStats") {
      authorize(conn, "dbStats", db, name);
      const d = databases.get(db);
      const dataSize = d ? dbSize(d) : 0;
      const objects = d ? [...d.values()].flat().length : 0;
      return { db, collections: d?.size ?? 0, views: 0, objects, dataSize, storageSize: dataSize, indexes: d?.size ?? 0, totalSize: dataSize, scaleFactor: 1 };
    }
    if (name === "dropDatabase") {
      authorize(conn, "dropDatabase", db, name);
      databases.delete(db);
      return {};
    }
    const collection = String(cmd[name]);
    if (name === "insert") {
      authorize(conn, "insert", db, name);
      const docs = (cmd.documents as Document[] | undefined) ?? sequences.get("documents") ?? [];
      const coll = databases.get(db)?.get(collection) ?? [];
      const writeErrors: Document[] = [];
      let n = 0;
      docs.forEach((doc, index) => {
        if (coll.some((d) => String(d._id) === String(doc._id))) {
          writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${db}.${collection} index: _id_ dup key: { _id: ${JSON.stringify(String(doc._id))} }` });
          return;
        }
        coll.push(doc);
        n++;
      });
      if (n > 0) {
        if (!databases.has(db)) databases.set(db, new Map());
        databases.get(db)!.set(collection, coll);
      }
      return writeErrors.length ? { n, writeErrors } : { n };
    }
    // find: equality on top-level fields is all Ocim's tests need.
    authorize(conn, "find", db, name);
    const filter = (cmd.filter as Document | undefined) ?? {};
    const firstBatch = (databases.get(db)?.get(collection) ?? []).filter((doc) =>
      Object.entries(filter).every(([k, v]) => String(doc[k]) === String(v)),
    );
    return { cursor: { firstBatch, id: Long.ZERO, ns: `${db}.${collection}` } };
  }

  function run(cmd: Document, conn: Conn, sequences: Map<string, Document[]>, dbHint?: string): Document {
    const name = Object.keys(cmd)[0] ?? "";
    const lower = name.toLowerCase();
    const db = typeof cmd.$db === "string" ? cmd.$db : (dbHint ?? "admin");
    commands.push(name);
    try {
      let reply: Document;
      if (lower === "hello" || lower === "ismaster") reply = hello(cmd, conn);
      else if (lower === "ping") reply = {};
      else if (lower === "buildinfo") reply = { version: "6.0.0-ocim-stand-in", versionArray: [6, 0, 0, 0], maxBsonObjectSize: 16 * 1024 * 1024 };
      else if (name === "endSessions") reply = {};
      else if (name === "saslStart") reply = saslStart(cmd, db, conn);
      else if (name === "saslContinue") reply = saslContinue(cmd, conn);
      else if (["createUser", "updateUser", "dropUser", "usersInfo"].includes(name)) reply = usersCommand(name, cmd, db, conn);
      else if (["listDatabases", "dbStats", "dropDatabase", "insert", "find"].includes(name)) reply = dataCommand(name, cmd, db, conn, sequences);
      else throw new CommandError(`no such command: '${name}'`, 59, "CommandNotFound");
      return { ...reply, ok: 1 };
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName };
    }
  }

  let nextRequestId = 1;
  function frame(responseTo: number, opCode: number, body: Buffer): Buffer {
    const header = Buffer.alloc(16);
    header.writeInt32LE(16 + body.length, 0);
    header.writeInt32LE(nextRequestId++, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(opCode, 12);
    return Buffer.concat([header, body]);
  }

  function handleMessage(msg: Buffer, conn: Conn): Buffer | null {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === OP_QUERY) {
      // flags(4) fullCollectionName(cstring) numberToSkip(4) numberToReturn(4) query(doc)
      const nsEnd = msg.indexOf(0, 20);
      const ns = msg.toString("utf8", 20, nsEnd);
      const query = deserialize(msg.subarray(nsEnd + 9));
      const reply = run(query, conn, new Map(), ns.slice(0, ns.indexOf(".")));
      const doc = Buffer.from(serialize(reply));
      const head = Buffer.alloc(20); // responseFlags(4) cursorID(8) startingFrom(4) numberReturned(4)
      head.writeInt32LE(1, 16);
      return frame(requestId, OP_REPLY, Buffer.concat([head, doc]));
    }
    if (opCode !== OP_MSG) throw new Error(`opcode ${opCode} is not supported by the stand-in`);
    const flags = msg.readUInt32LE(16);
    const end = msg.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let body: Document | null = null;
    const sequences = new Map<string, Document[]>();
    for (let at = 20; at < end; ) {
      const kind = msg[at];
      const size = msg.readInt32LE(at + 1);
      if (kind === 0) {
        body = deserialize(msg.subarray(at + 1, at + 1 + size));
      } else {
        // kind 1: size(4, includes itself) identifier(cstring) documents…
        const idEnd = msg.indexOf(0, at + 5);
        const identifier = msg.toString("utf8", at + 5, idEnd);
        const docs: Document[] = [];
        for (let d = idEnd + 1; d < at + 1 + size; d += msg.readInt32LE(d)) docs.push(deserialize(msg.subarray(d, d + msg.readInt32LE(d))));
        sequences.set(identifier, docs);
      }
      at += 1 + size;
    }
    if (!body) throw new Error("OP_MSG without a body section");
    const reply = run(body, conn, sequences);
    if (flags & MORE_TO_COME) return null;
    const out = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), Buffer.from(serialize(reply))]);
    return frame(requestId, OP_MSG, out);
  }

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const conn: Conn = { id: nextConnId++, user: null, conversations: new Map() };
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const len = buffered.readInt32LE(0);
        const msg = buffered.subarray(0, len);
        buffered = buffered.subarray(len);
        try {
          const reply = handleMessage(msg, conn);
          if (reply) socket.write(reply);
        } catch {
          // mongod closes a connection that sends what it cannot parse.
          socket.destroy();
          return;
        }
      }
    });
  };
  const server = opts.tls ? tls.createServer(opts.tls, onConnection) : net.createServer(onConnection);
  // A client that fails the TLS handshake (it does not trust the certificate) is only closed.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host,
    port,
    commands,
    databases,
    users: () => Object.fromEntries([...users.entries()].map(([k, u]) => [k, u.roles])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
