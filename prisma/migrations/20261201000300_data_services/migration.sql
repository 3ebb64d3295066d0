-- An instance's data outside its appservers (DESIGN §5b): shared MySQL, MongoDB and S3 services,
-- the instance's choice of each, what Ocim made there for it, and its JWT signing key.

-- CreateEnum
CREATE TYPE "DataServiceKind" AS ENUM ('mysql', 'mongodb', 's3');

-- CreateEnum
CREATE TYPE "DataResourceKind" AS ENUM ('database', 'user', 'bucket');

-- CreateEnum
CREATE TYPE "DataResourceStatus" AS ENUM ('exists', 'missing', 'error');

-- AlterTable
ALTER TABLE "Instance" ADD COLUMN "jwtKeyEncrypted" TEXT NOT NULL DEFAULT '',
ADD COLUMN "mongodbServiceId" INTEGER,
ADD COLUMN "mysqlServiceId" INTEGER,
ADD COLUMN "storageServiceId" INTEGER;

-- CreateTable
CREATE TABLE "DataService" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "DataServiceKind" NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "credentialsEncrypted" TEXT NOT NULL DEFAULT '',
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DataService_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstanceDataResource" (
    "id" SERIAL NOT NULL,
    "instanceId" INTEGER,
    "owner" TEXT NOT NULL,
    "serviceId" INTEGER NOT NULL,
    "kind" "DataResourceKind" NOT NULL,
    "name" TEXT NOT NULL,
    "status" "DataResourceStatus" NOT NULL,
    "detail" TEXT NOT NULL DEFAULT '',
    "sizeBytes" BIGINT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "checkedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "InstanceDataResource_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DataService_name_key" ON "DataService"("name");

-- CreateIndex
CREATE INDEX "InstanceDataResource_instanceId_idx" ON "InstanceDataResource"("instanceId");

-- CreateIndex
CREATE INDEX "InstanceDataResource_owner_idx" ON "InstanceDataResource"("owner");

-- CreateIndex
CREATE UNIQUE INDEX "InstanceDataResource_serviceId_kind_name_key" ON "InstanceDataResource"("serviceId", "kind", "name");

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_mysqlServiceId_fkey" FOREIGN KEY ("mysqlServiceId") REFERENCES "DataService"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_mongodbServiceId_fkey" FOREIGN KEY ("mongodbServiceId") REFERENCES "DataService"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_storageServiceId_fkey" FOREIGN KEY ("storageServiceId") REFERENCES "DataService"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstanceDataResource" ADD CONSTRAINT "InstanceDataResource_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstanceDataResource" ADD CONSTRAINT "InstanceDataResource_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "DataService"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
