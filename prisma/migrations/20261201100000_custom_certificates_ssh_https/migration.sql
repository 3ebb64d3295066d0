-- Certificates an admin uploads (for domains that cannot use ACME HTTP-01): the renewal job leaves
-- them alone, and the pages say who uploaded them.
CREATE TYPE "CertificateSource" AS ENUM ('acme', 'custom');
ALTER TABLE "InstanceCertificate" ADD COLUMN "source" "CertificateSource" NOT NULL DEFAULT 'acme';
ALTER TABLE "InstanceCertificate" ADD COLUMN "uploadedBy" TEXT NOT NULL DEFAULT '';

-- An ssh balancer's HTTPS bind (empty: no HTTPS there), and its own SSH host key, recorded at the
-- first connection and required of every later one (null until then, or after an admin cleared it).
ALTER TABLE "LoadBalancer" ADD COLUMN "httpsBind" TEXT NOT NULL DEFAULT '';
ALTER TABLE "LoadBalancer" ADD COLUMN "hostKeyFingerprint" TEXT;
