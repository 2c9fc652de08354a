/**
 * Catalog writes of the ingest handlers: conditional revision transitions, the head's
 * compare-and-set, and the terminal event published exactly once per transition
 * (core/asset-status.ts holds the rules; this only sends them).
 * Shared by submit-job and job-status, which must not import each other (DESIGN.md §3).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AssetHead,
  applyHeadChange,
  type CatalogEvent,
  createRevisionParams,
  HEAD_SK,
  headUpdateParams,
  isTerminal,
  markEventPublishedParams,
  nextHead,
  revisionEvent,
  type RevisionItem,
  revisionSk,
  type RevisionStatus,
  revisionTransitionParams,
} from '../../core/asset-status';
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

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

export class CatalogWriter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly events: EventBridgeClient,
    private readonly tableName: string,
    private readonly eventBusName: string,
    private readonly now: () => Date,
  ) {}

  /** Creates the revision item; false when this upload was seen before (a duplicate event). */
  async createRevision(item: RevisionItem): Promise<boolean> {
    try {
      await this.documents.send(new PutCommand(createRevisionParams(this.tableName, item)));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getRevision(assetId: string, revision: string): Promise<RevisionItem | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { assetId, sk: revisionSk(revision) }, ConsistentRead: true }),
    );
    return Item as RevisionItem | undefined;
  }

  /**
   * Moves a revision forward; returns the item as written, or undefined when the condition failed
   * (the revision is missing, already there or beyond, or belongs to another job).
   */
  async transition(
    key: { assetId: string; revision: string },
    next: RevisionStatus,
    fields: Readonly<Record<string, unknown>> = {},
    jobId?: string,
  ): Promise<RevisionItem | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          ...revisionTransitionParams(this.tableName, key, next, this.now().toISOString(), fields, jobId),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as RevisionItem;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Applies a revision's new status to the head (compare-and-set, re-read on conflict); returns the head after. */
  async advanceHead(item: RevisionItem): Promise<AssetHead | undefined> {
    const change = { revision: item.revision, status: item.status, uploadedAt: item.uploadedAt, now: this.now().toISOString() };
    for (let attempt = 0; attempt < HEAD_WRITE_ATTEMPTS; attempt++) {
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { assetId: item.assetId, sk: HEAD_SK }, ConsistentRead: true }),
      );
      const snapshot = Item as AssetHead | undefined;
      const headChange = nextHead(snapshot, change);
      if (!headChange) return snapshot;
      try {
        await this.documents.send(new UpdateCommand(headUpdateParams(this.tableName, item.assetId, snapshot, headChange)));
        return applyHeadChange(item.assetId, snapshot, headChange);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new HeadContentionError(`head of asset "${item.assetId}" changed ${HEAD_WRITE_ATTEMPTS} times while being updated`);
  }

  async publish(event: CatalogEvent): Promise<void> {
    const result = await this.events.send(new PutEventsCommand({ Entries: [{ ...event, EventBusName: this.eventBusName }] }));
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.[0];
      throw new EventNotPublishedError(`${event.DetailType} not published: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }

  /**
   * After a revision reached a terminal status: head, then the event, then the mark that it went
   * out. A crash anywhere leaves the mark unset, so the retried event finishes the job (at least
   * once); once marked, duplicates publish nothing.
   */
  async finishTerminal(item: RevisionItem): Promise<void> {
    if (!isTerminal(item.status) || item.eventPublishedAt !== undefined) return;
    const head = await this.advanceHead(item);
    const event = revisionEvent(item, head?.currentRevision === item.revision && head.status !== 'DELETED');
    if (event) await this.publish(event);
    try {
      await this.documents.send(
        new UpdateCommand(markEventPublishedParams(this.tableName, item, this.now().toISOString())),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      logger.info('terminal event was already marked as published', { assetId: item.assetId, revision: item.revision });
    }
  }
}
