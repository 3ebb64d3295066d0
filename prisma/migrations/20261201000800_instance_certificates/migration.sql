-- HTTPS at the balancer (docs/load-balancer.md): one certificate per instance, obtained by ACME
-- HTTP-01 and renewed by a scheduled job. The private keys are AES-GCM encrypted with SECRET_KEY.
CREATE TABLE "InstanceCertificate" (
    "id" SERIAL NOT NULL,
    "instanceId" INTEGER NOT NULL,
    "certificatePem" TEXT NOT NULL DEFAULT '',
    "privateKeyEncrypted" TEXT NOT NULL DEFAULT '',
    "domains" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "issuer" TEXT NOT NULL DEFAULT '',
    "notAfter" TIMESTAMP(3),
    "lastError" TEXT NOT NULL DEFAULT '',
    "lastAttemptAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "InstanceCertificate_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "InstanceCertificate_instanceId_key" ON "InstanceCertificate"("instanceId");
CREATE INDEX "InstanceCertificate_notAfter_idx" ON "InstanceCertificate"("notAfter");
ALTER TABLE "InstanceCertificate" ADD CONSTRAINT "InstanceCertificate_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The ACME account certificates are ordered with, one per directory (its key encrypted likewise).
CREATE TABLE "AcmeAccount" (
    "id" SERIAL NOT NULL,
    "directoryUrl" TEXT NOT NULL,
    "keyEncrypted" TEXT NOT NULL,
    "accountUrl" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AcmeAccount_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AcmeAccount_directoryUrl_key" ON "AcmeAccount"("directoryUrl");
