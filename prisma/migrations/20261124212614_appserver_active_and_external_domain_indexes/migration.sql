-- CreateIndex
CREATE INDEX "AppServer_instanceId_isActive_idx" ON "AppServer"("instanceId", "isActive");

-- CreateIndex
CREATE INDEX "Instance_externalDomains_idx" ON "Instance" USING GIN ("externalDomains");
