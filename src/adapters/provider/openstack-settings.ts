// What an OpenStack ProviderAccount holds: settings (plain JSON, shown in the admin area) and
// credentials (encrypted JSON, never shown). The admin form validates with these schemas too.
import { z } from "zod";

export const openstackSettingsSchema = z.object({
  /** Keystone, e.g. https://keystone.example.com:5000/v3 ("/v3" is added when missing). */
  authUrl: z.url({ protocol: /^https?$/, error: "an http(s) URL" }),
  /** Region of the compute endpoint in the catalog; unset takes the first one. */
  region: z.string().min(1).optional(),
  /** The project, for password auth: its name (with projectDomainName) or its id. An application credential brings its own. */
  projectName: z.string().min(1).optional(),
  projectId: z.string().min(1).optional(),
  projectDomainName: z.string().min(1).default("Default"),
  userDomainName: z.string().min(1).default("Default"),
  /** Flavor and image by name or id: Nova takes ids only, so names are looked up (Nova flavors, Glance images). */
  flavorRef: z.string().min(1),
  imageRef: z.string().min(1),
  /** The Nova key pair whose private half is sshPrivateKey in the credentials. */
  keyName: z.string().min(1),
  securityGroups: z.array(z.string().min(1)).default([]),
  /** Networks to attach, by name or id (looked up in Neutron); empty lets Nova choose (a project with a single network). */
  networks: z.array(z.string().min(1)).default([]),
  /** The older name of `networks` (ids only); still read, so accounts saved before keep working. */
  networkIds: z.array(z.string().min(1)).default([]),
  /**
   * The external network (name or id) to allocate each VM's floating IP from, on clouds where a VM
   * gets only a private fixed address. Unset: the VM's own address is used (a provider network).
   */
  floatingNetwork: z.string().min(1).optional(),
  /** How long a deletion may take before Ocim stops waiting (Nova deletes asynchronously). */
  deleteTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
  /** The image's login user (Ubuntu cloud images: "ubuntu"). */
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a Unix user name").default("ubuntu"),
  sshPort: z.number().int().min(1).max(65535).default(22),
  /** Where Ocim keeps its files on the VM; default ~/ocim of sshUser. */
  workDir: z.string().startsWith("/", "an absolute path").optional(),
  computeInterface: z.enum(["public", "internal", "admin"]).default("public"),
});

/** A user name and password, or an application credential (id and secret); the SSH key either way. */
export const openstackCredentialsSchema = z
  .object({
    username: z.string().optional(),
    password: z.string().optional(),
    applicationCredentialId: z.string().optional(),
    applicationCredentialSecret: z.string().optional(),
    sshPrivateKey: z.string().includes("PRIVATE KEY", { error: "an OpenSSH or PEM private key" }),
  })
  .superRefine((c, ctx) => {
    const need = (key: keyof typeof c, message: string) => {
      if (!c[key]) ctx.addIssue({ code: "custom", path: [key], message, input: undefined });
    };
    if (c.applicationCredentialId || c.applicationCredentialSecret) {
      need("applicationCredentialId", "given with applicationCredentialSecret");
      need("applicationCredentialSecret", "given with applicationCredentialId");
    } else {
      need("username", "given (or applicationCredentialId and applicationCredentialSecret instead)");
      need("password", "given (or applicationCredentialId and applicationCredentialSecret instead)");
    }
  });

export type OpenstackSettings = z.infer<typeof openstackSettingsSchema>;
export type OpenstackCredentials = z.infer<typeof openstackCredentialsSchema>;
