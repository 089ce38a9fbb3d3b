/** Every key of T, each marked as it is in T; the compiler rejects missing or extra keys. */
export type KeyTable<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? 'optional' : 'required' };
