// What an OpenStack ProviderAccount holds: settings (plain JSON, shown in the admin area) and
// credentials (encrypted JSON, never shown). The admin form validates with these schemas too.
import { z } from "zod";

export const openstackSettingsSchema = z.object({
  /** Keystone, e.g. https://keystone.example.com:5000/v3 ("/v3" is added when missing). */
  authUrl: z.url({ protocol: /^https?$/, error: "an http(s) URL" }),
  /** Region of the compute endpoint in the catalog; unset takes the first one. */
  region: z.string().min(1).optional(),
  projectName: z.string().min(1),
  projectDomainName: z.string().min(1).default("Default"),
  userDomainName: z.string().min(1).default("Default"),
  flavorRef: z.string().min(1),
  imageRef: z.string().min(1),
  /** The Nova key pair whose private half is sshPrivateKey in the credentials. */
  keyName: z.string().min(1),
  securityGroups: z.array(z.string().min(1)).default([]),
  /** Network UUIDs to attach; empty lets Nova choose (a project with a single network). */
  networkIds: z.array(z.string().min(1)).default([]),
  /** The image's login user (Ubuntu cloud images: "ubuntu"). */
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a Unix user name").default("ubuntu"),
  sshPort: z.number().int().min(1).max(65535).default(22),
  /** Where Ocim keeps its files on the VM; default ~/ocim of sshUser. */
  workDir: z.string().startsWith("/", "an absolute path").optional(),
  computeInterface: z.enum(["public", "internal", "admin"]).default("public"),
});

export const openstackCredentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  sshPrivateKey: z.string().includes("PRIVATE KEY", { error: "an OpenSSH or PEM private key" }),
});

export type OpenstackSettings = z.infer<typeof openstackSettingsSchema>;
export type OpenstackCredentials = z.infer<typeof openstackCredentialsSchema>;
