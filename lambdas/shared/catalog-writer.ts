/**
 * The catalog steps both ingest handlers take after a revision changed: bring the head along
 * (load → `nextHead` → compare-and-set, again on conflict) and publish the terminal event exactly
 * once per transition. The rules are core/asset-status.ts's, the reads and writes
 * tables/catalog-table.ts's; this composes them with EventBridge. Shared by submit-job and
 * job-status, which must not import each other.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type AssetHead, applyHeadChange, type CatalogEvent, isTakenDown, isTerminal, nextHead, type Revision, revisionEvent } from '../../core/asset-status';
import type { CatalogTable } from '../../tables/catalog-table';
import { logger } from '../shared/powertools';

/** The head kept changing under us; the invocation fails and Lambda's async retry tries again. */
export class HeadContentionError extends Error {
  override readonly name = 'HeadContentionError';
}

/** EventBridge accepted the call but not the entry (PutEvents reports entry failures in its body). */
export class EventNotPublishedError extends Error {
  override readonly name = 'EventNotPublishedError';
}

const HEAD_WRITE_ATTEMPTS = 5;

export class CatalogWriter {
  constructor(
    private readonly table: CatalogTable,
    private readonly events: EventBridgeClient,
    private readonly eventBusName: string,
    private readonly now: () => Date,
  ) {}

  /** Applies a revision's new status to the head (compare-and-set, re-read on conflict); returns the head after. */
  async advanceHead(revision: Revision): Promise<AssetHead | undefined> {
    const change = { revision: revision.revision, status: revision.status, uploadedAt: revision.uploadedAt, now: this.now().toISOString() };
    for (let attempt = 0; attempt < HEAD_WRITE_ATTEMPTS; attempt++) {
      const snapshot = await this.table.getHead(revision.assetId, { consistent: true });
      const headChange = nextHead(snapshot, change);
      if (!headChange) return snapshot;
      if (await this.table.writeHead(revision.assetId, snapshot, headChange)) return applyHeadChange(revision.assetId, snapshot, headChange);
    }
    throw new HeadContentionError(`head of asset "${revision.assetId}" changed ${HEAD_WRITE_ATTEMPTS} times while being updated`);
  }

  async publish(event: CatalogEvent): Promise<void> {
    await publishCatalogEvent(this.events, this.eventBusName, event);
  }

  /**
   * After a revision reached a terminal status: head, then the event, then the mark that it went
   * out. A crash anywhere leaves the mark unset, so the retried event finishes the job (at least
   * once); once marked, duplicates publish nothing.
   */
  async finishTerminal(revision: Revision): Promise<void> {
    if (!isTerminal(revision.status) || revision.eventPublishedAt !== undefined) return;
    const head = await this.advanceHead(revision);
    const event = revisionEvent(revision, head?.currentRevision === revision.revision && !isTakenDown(head.status));
    if (event) await this.publish(event);
    if (!(await this.table.markEventPublished(revision, this.now().toISOString()))) {
      logger.info('terminal event was already marked as published', { assetId: revision.assetId, revision: revision.revision });
    }
  }
}

/** Puts one catalog event on the bus; an entry EventBridge refused is an error, not a silent loss. */
export async function publishCatalogEvent(
  events: EventBridgeClient,
  eventBusName: string,
  event: { readonly Source: string; readonly DetailType: string; readonly Detail: string },
): Promise<void> {
  const result = await events.send(new PutEventsCommand({ Entries: [{ ...event, EventBusName: eventBusName }] }));
  if ((result.FailedEntryCount ?? 0) > 0) {
    const entry = result.Entries?.[0];
    throw new EventNotPublishedError(`${event.DetailType} not published: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}
