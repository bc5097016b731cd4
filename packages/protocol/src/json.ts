import { z } from 'zod';

/** Any JSON value (finite numbers only), e.g. the argument of a command. */
export const JsonValueSchema = z.json();
export type JsonValue = z.infer<typeof JsonValueSchema>;

/** A finite number: JSON has no NaN/Infinity. */
export const FiniteNumberSchema = z.number();
