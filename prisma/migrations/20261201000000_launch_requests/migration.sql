-- A double-clicked "Launch new AppServer" made two appservers, and ten API calls with one intent
-- made ten VMs. Each launch now records the key of the form or API request that asked for it. The
-- unique index makes a second launch with the same key (by the same user) impossible even when
-- both arrive at once, and the launch answers with the appserver the first one made.

-- CreateTable
CREATE TABLE "LaunchRequest" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "appServerId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LaunchRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LaunchRequest_userId_key_key" ON "LaunchRequest"("userId", "key");

-- CreateIndex
CREATE INDEX "LaunchRequest_createdAt_idx" ON "LaunchRequest"("createdAt");

-- AddForeignKey
ALTER TABLE "LaunchRequest" ADD CONSTRAINT "LaunchRequest_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LaunchRequest" ADD CONSTRAINT "LaunchRequest_appServerId_fkey" FOREIGN KEY ("appServerId") REFERENCES "AppServer"("id") ON DELETE CASCADE ON UPDATE CASCADE;
