/** routing-weights' configuration (lib/constructs/telemetry-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { z } from 'zod';
import { DEFAULT_SCORING_PARAMS, type ScoringParams } from '../../core/routing/scoring-params';
import { type ConfigOf, defineFunctionConfig, envInteger, envJson, envOptionalString, envString } from '../shared/function-config';

/**
 * `SCORING_PARAMS_JSON`: an object overriding some of DEFAULT_SCORING_PARAMS, e.g.
 * `{"reversalHoldSeconds":20,"minSamples":20}`. The cloud leaves it unset (the defaults are the tuned
 * ones, docs/routing.md); the local twin shortens the controller's clocks so a failover is visible within
 * a minute or two. Unknown keys and non-numbers fail the cold start with the key named.
 */
const scoringOverrides = z.strictObject(
  Object.fromEntries(
    Object.keys(DEFAULT_SCORING_PARAMS).map((key) => [key, z.number({ error: 'must be a number' }).finite().min(0, { error: 'must be non-negative' }).optional()]),
  ) as Record<keyof ScoringParams, z.ZodOptional<z.ZodNumber>>,
) as unknown as z.ZodType<Partial<ScoringParams>>;

export const routingWeightsConfig = defineFunctionConfig({
  routingTableName: envString('ROUTING_TABLE_NAME'),
  rollupsTableName: envString('ROLLUPS_TABLE_NAME'),
  /** Evaluations per invocation: the schedule fires once a minute, so 60 / tickSeconds (ADR 0061). */
  ticks: envInteger('TICKS', { min: 1, max: 60 }),
  /** Seconds between evaluations; also the controller's `evaluationIntervalSeconds`. */
  tickSeconds: envInteger('TICK_SECONDS', { min: 1, max: 60 }),
  params: envJson('SCORING_PARAMS_JSON', scoringOverrides),
  /**
   * The gateway's CloudFront KeyValueStore (the keyring's copy, which the steering key function reads): each
   * country's routing generation goes there (ADR 0097). Absent: no generations; answers are reused for their TTL.
   */
  generationStoreArn: envOptionalString('ROUTING_GENERATION_STORE_ARN'),
});
export type RoutingWeightsConfig = ConfigOf<typeof routingWeightsConfig>;
