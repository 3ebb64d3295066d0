-- The transactional outbox of appserver transitions (src/domain/appservers/lifecycle.ts): each
-- transition writes its follow-up work here in its own transaction, and the worker's relay sends the
-- committed rows to BullMQ / Redis pub/sub and stamps sentAt (docs/provisioning.md).

-- CreateTable
CREATE TABLE "OutboxMessage" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "OutboxMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OutboxMessage_sentAt_id_idx" ON "OutboxMessage"("sentAt", "id");
