-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'operator');

-- CreateEnum
CREATE TYPE "AppServerStatus" AS ENUM ('new', 'waiting', 'configuring', 'running', 'failed', 'error', 'terminated');

-- CreateEnum
CREATE TYPE "VmStatus" AS ENUM ('pending', 'building', 'booting', 'ready', 'terminated', 'failed', 'unknown');

-- CreateEnum
CREATE TYPE "LoadBalancerKind" AS ENUM ('local', 'ssh');

-- CreateEnum
CREATE TYPE "ProviderKind" AS ENUM ('local', 'openstack');

-- CreateEnum
CREATE TYPE "PullRequestState" AS ENUM ('open', 'closed', 'merged');

-- CreateEnum
CREATE TYPE "LogLevel" AS ENUM ('debug', 'info', 'warn', 'error');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "githubLogin" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "avatarUrl" TEXT NOT NULL DEFAULT '',
    "role" "Role" NOT NULL DEFAULT 'operator',
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "lastLoginAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Instance" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "internalLmsDomain" TEXT NOT NULL,
    "studioDomain" TEXT NOT NULL,
    "previewDomain" TEXT NOT NULL,
    "ecommerceDomain" TEXT NOT NULL,
    "discoveryDomain" TEXT NOT NULL,
    "appsDomain" TEXT NOT NULL,
    "externalDomains" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "edxPlatformRepoUrl" TEXT NOT NULL,
    "edxPlatformBranch" TEXT NOT NULL,
    "configurationRepoUrl" TEXT NOT NULL,
    "configurationBranch" TEXT NOT NULL,
    "playbookPath" TEXT NOT NULL,
    "bootstrapCommand" TEXT NOT NULL DEFAULT '',
    "openedxRelease" TEXT NOT NULL,
    "extraAnsibleVars" TEXT NOT NULL DEFAULT '',
    "appserverCount" INTEGER NOT NULL DEFAULT 1,
    "providerKind" "ProviderKind" NOT NULL DEFAULT 'local',
    "loadBalancerId" INTEGER,
    "pullRequestUrl" TEXT,
    "pullRequestNumber" INTEGER,
    "pullRequestState" "PullRequestState",
    "secretKeyEncrypted" TEXT NOT NULL,
    "isArchived" BOOLEAN NOT NULL DEFAULT false,
    "nextAppServerNumber" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AppServer" (
    "id" SERIAL NOT NULL,
    "instanceId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" "AppServerStatus" NOT NULL DEFAULT 'new',
    "vmStatus" "VmStatus" NOT NULL DEFAULT 'pending',
    "providerKind" "ProviderKind" NOT NULL,
    "providerServerId" TEXT,
    "publicIp" TEXT,
    "configSnapshot" JSONB NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT false,
    "lastActivatedAt" TIMESTAMP(3),
    "terminatedAt" TIMESTAMP(3),
    "createdById" INTEGER,
    "stepCursor" TEXT NOT NULL DEFAULT '',
    "logOffset" BIGINT NOT NULL DEFAULT 0,
    "failureSummary" TEXT NOT NULL DEFAULT '',
    "isPinned" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "statusChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AppServer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LogEntry" (
    "id" BIGSERIAL NOT NULL,
    "appServerId" INTEGER,
    "instanceId" INTEGER,
    "seq" INTEGER NOT NULL,
    "level" "LogLevel" NOT NULL DEFAULT 'info',
    "text" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LogEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoadBalancer" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "LoadBalancerKind" NOT NULL DEFAULT 'local',
    "host" TEXT NOT NULL DEFAULT '',
    "sshUser" TEXT NOT NULL DEFAULT '',
    "sshPort" INTEGER NOT NULL DEFAULT 22,
    "configPath" TEXT NOT NULL,
    "mapPath" TEXT NOT NULL,
    "reloadCommand" TEXT NOT NULL,
    "fragmentName" TEXT NOT NULL,
    "configurationVersion" INTEGER NOT NULL DEFAULT 0,
    "deployedVersion" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT NOT NULL DEFAULT '',
    "lastAppliedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LoadBalancer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProviderAccount" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "ProviderKind" NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "credentialsEncrypted" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProviderAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GithubKey" (
    "id" SERIAL NOT NULL,
    "githubLogin" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GithubKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" SERIAL NOT NULL,
    "actorId" INTEGER,
    "actorLogin" TEXT NOT NULL DEFAULT '',
    "action" TEXT NOT NULL,
    "subjectType" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "subjectName" TEXT NOT NULL DEFAULT '',
    "diff" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "lastUsedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginLink" (
    "id" SERIAL NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LoginLink_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_githubLogin_key" ON "User"("githubLogin");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_slug_key" ON "Instance"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_internalLmsDomain_key" ON "Instance"("internalLmsDomain");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_studioDomain_key" ON "Instance"("studioDomain");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_previewDomain_key" ON "Instance"("previewDomain");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_ecommerceDomain_key" ON "Instance"("ecommerceDomain");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_discoveryDomain_key" ON "Instance"("discoveryDomain");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_appsDomain_key" ON "Instance"("appsDomain");

-- CreateIndex
CREATE INDEX "Instance_name_idx" ON "Instance"("name");

-- CreateIndex
CREATE INDEX "Instance_isArchived_name_idx" ON "Instance"("isArchived", "name");

-- CreateIndex
CREATE INDEX "AppServer_instanceId_createdAt_idx" ON "AppServer"("instanceId", "createdAt");

-- CreateIndex
CREATE INDEX "AppServer_status_idx" ON "AppServer"("status");

-- CreateIndex
CREATE UNIQUE INDEX "AppServer_instanceId_number_key" ON "AppServer"("instanceId", "number");

-- CreateIndex
CREATE INDEX "LogEntry_instanceId_seq_idx" ON "LogEntry"("instanceId", "seq");

-- CreateIndex
CREATE INDEX "LogEntry_createdAt_idx" ON "LogEntry"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "LogEntry_appServerId_seq_key" ON "LogEntry"("appServerId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "LoadBalancer_name_key" ON "LoadBalancer"("name");

-- CreateIndex
CREATE UNIQUE INDEX "LoadBalancer_fragmentName_key" ON "LoadBalancer"("fragmentName");

-- CreateIndex
CREATE UNIQUE INDEX "ProviderAccount_name_key" ON "ProviderAccount"("name");

-- CreateIndex
CREATE UNIQUE INDEX "GithubKey_githubLogin_fingerprint_key" ON "GithubKey"("githubLogin", "fingerprint");

-- CreateIndex
CREATE INDEX "AuditEvent_subjectType_subjectId_createdAt_idx" ON "AuditEvent"("subjectType", "subjectId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditEvent_createdAt_idx" ON "AuditEvent"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "LoginLink_tokenHash_key" ON "LoginLink"("tokenHash");

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_loadBalancerId_fkey" FOREIGN KEY ("loadBalancerId") REFERENCES "LoadBalancer"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppServer" ADD CONSTRAINT "AppServer_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppServer" ADD CONSTRAINT "AppServer_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LogEntry" ADD CONSTRAINT "LogEntry_appServerId_fkey" FOREIGN KEY ("appServerId") REFERENCES "AppServer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LogEntry" ADD CONSTRAINT "LogEntry_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditEvent" ADD CONSTRAINT "AuditEvent_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
