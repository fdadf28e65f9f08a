// Kafka's single message transforms and predicates, by class name (filled in below).
import type { PredicateFactory, TransformFactory } from './transforms.js';

export const TRANSFORMS: Record<string, TransformFactory> = {};
export const PREDICATES: Record<string, PredicateFactory> = {};
