-- Webhook URLs out of the audit and the delivery log (docs/notifications.md, "Channels"). A webhook
-- URL's path and query are often its secret (Slack's /services/T…/B…/X…, a token in the query), and
-- a URL may carry a user name and password. The audit events of notification channels kept the whole
-- URL: they keep its origin and •••••• for the rest now, as they are recorded from now on (src/mask-text.ts,
-- maskUrl), and the "after" of an edit that changed only the hidden part reads "•••••• (changed)".
-- Delivery errors that repeated a channel's URL (fetch's "Request cannot be constructed from a URL
-- that includes credentials: <the URL>") keep its origin only, and its path and query are masked.
UPDATE "AuditEvent" e
SET diff = jsonb_set(e.diff, '{target}', jsonb_build_array(
  to_jsonb(m.b),
  to_jsonb(CASE WHEN m.a = m.b AND m.a_raw <> m.b_raw AND m.a LIKE '%/••••••' THEN m.a || ' (changed)' ELSE m.a END)))
FROM (
  SELECT id, b_raw, a_raw,
    CASE WHEN b_raw ~ '^[A-Za-z][A-Za-z0-9+.-]*://'
      THEN regexp_replace(b_raw, '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#]*@)?([^/?#]*).*$', '\1\2')
        || CASE WHEN b_raw ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*/?$' THEN '/' ELSE '/••••••' END
      ELSE b_raw END AS b,
    CASE WHEN a_raw ~ '^[A-Za-z][A-Za-z0-9+.-]*://'
      THEN regexp_replace(a_raw, '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#]*@)?([^/?#]*).*$', '\1\2')
        || CASE WHEN a_raw ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*/?$' THEN '/' ELSE '/••••••' END
      ELSE a_raw END AS a
  FROM (
    SELECT id, diff -> 'target' ->> 0 AS b_raw, diff -> 'target' ->> 1 AS a_raw
    FROM "AuditEvent"
    WHERE "subjectType" = 'NotificationChannel' AND jsonb_typeof(diff -> 'target') = 'array'
  ) raw
) m
WHERE e.id = m.id AND (m.b IS DISTINCT FROM m.b_raw OR m.a IS DISTINCT FROM m.a_raw);

UPDATE "NotificationDelivery" d
SET "lastError" = CASE WHEN c.rest IN ('', '/') THEN replace(d."lastError", c.target, c.shown)
  ELSE replace(replace(d."lastError", c.target, c.shown), c.rest, '••••••') END
FROM (
  SELECT id, target, rest,
    regexp_replace(target, '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#]*@)?([^/?#]*).*$', '\1\2')
      || CASE WHEN target ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*/?$' THEN '/' ELSE '/••••••' END AS shown
  FROM (
    SELECT id, target, regexp_replace(target, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*', '') AS rest
    FROM "NotificationChannel"
    WHERE kind = 'webhook' AND target ~ '^[A-Za-z][A-Za-z0-9+.-]*://'
  ) t
) c
WHERE c.id = d."channelId" AND (strpos(d."lastError", c.target) > 0 OR (c.rest NOT IN ('', '/') AND strpos(d."lastError", c.rest) > 0));
