// Job and queue names are a public contract: queued jobs outlive deploys, so never rename one.
export const QUEUES = {} as const;
