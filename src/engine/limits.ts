/** Default sessions at once, overall and to one host: enough to be quick, too few to flood a small server. */
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PER_HOST_LIMIT = 2;
