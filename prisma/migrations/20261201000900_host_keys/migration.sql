-- The SSH host key of an appserver's VM, recorded at Ocim's first connection to it: every later
-- connection must see the same key, or it is refused (a man in the middle, or a reinstalled VM).
-- Null until the first connection (and for appservers made before this column existed: their next
-- connection records it).
ALTER TABLE "AppServer" ADD COLUMN "hostKeyFingerprint" TEXT;
