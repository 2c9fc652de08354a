import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** Every entry the handler sent through the mocked EventBridge client, in order, with `Detail` parsed. */
export function publishedEvents(eventBridge: AwsClientStub<EventBridgeClient>) {
  return eventBridge
    .commandCalls(PutEventsCommand)
    .flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => ({ ...entry, Detail: JSON.parse(entry.Detail ?? '{}') })));
}
