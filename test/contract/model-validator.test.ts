import { describe, it, expect } from 'vitest';
import { validateAgainstModel, type ServiceModel } from './model-validator';
import { loadMediaConvertModel } from './load-model';

const mediaConvert = loadMediaConvertModel();

/** A model small enough to read: every shape kind the validator handles. */
const tinyModel: ServiceModel = {
  shapes: {
    Request: {
      type: 'structure',
      required: ['Name'],
      members: {
        Name: { shape: 'NameString', locationName: 'name' },
        Mode: { shape: 'Mode', locationName: 'mode' },
        Count: { shape: 'CountInteger', locationName: 'count' },
        Ratio: { shape: '__doubleMin0Max1', locationName: 'ratio' },
        Flag: { shape: 'Flag', locationName: 'flag' },
        Items: { shape: 'ItemList', locationName: 'items' },
        Tags: { shape: 'TagMap', locationName: 'tags' },
      },
    },
    NameString: { type: 'string', min: 1, max: 8, pattern: '^[a-z]+$' },
    Mode: { type: 'string', enum: ['FAST', 'SLOW'] },
    CountInteger: { type: 'integer', min: 1, max: 10 },
    __doubleMin0Max1: { type: 'double' },
    Flag: { type: 'boolean' },
    ItemList: { type: 'list', member: { shape: 'Item' }, max: 2 },
    Item: { type: 'structure', required: ['Id'], members: { Id: { shape: 'CountInteger' } } },
    TagMap: { type: 'map', key: { shape: 'Key' }, value: { shape: 'Key' } },
    Key: { type: 'string' },
  },
};

const kinds = (model: ServiceModel, shape: string, value: unknown) =>
  validateAgainstModel(model, shape, value).map(({ kind, path }) => `${kind} at ${path}`);

describe('validateAgainstModel', () => {
  it('accepts a value that conforms, treating undefined members as absent', () => {
    const value = { Name: 'abc', Mode: 'FAST', Count: 3, Ratio: 0.5, Flag: true, Items: [{ Id: 1 }], Tags: { a: 'b' }, Unset: undefined };

    expect(kinds(tinyModel, 'Request', value)).toEqual([]);
  });

  it('reports a missing required member, also inside a list item', () => {
    expect(kinds(tinyModel, 'Request', { Items: [{}] })).toEqual(['missing-required at Name', 'missing-required at Items[0].Id']);
  });

  it('reports an unknown member and hints when it is a wire (locationName) spelling', () => {
    const violations = validateAgainstModel(tinyModel, 'Request', { Name: 'abc', mode: 'FAST', Colour: 'red' });

    expect(violations.map((v) => v.kind)).toEqual(['unknown-member', 'unknown-member']);
    expect(violations[0]!.message).toContain('wire name of Mode');
  });

  it('reports a value outside an enum', () => {
    expect(kinds(tinyModel, 'Request', { Name: 'abc', Mode: 'fast' })).toEqual(['bad-enum at Mode']);
  });

  it('reports numbers, string lengths and list sizes out of range', () => {
    const value = { Name: 'abcdefghij', Count: 11, Items: [{ Id: 0 }, { Id: 1 }, { Id: 2 }] };

    expect(kinds(tinyModel, 'Request', value)).toEqual([
      'out-of-range at Name',
      'out-of-range at Count',
      'out-of-range at Items',
      'out-of-range at Items[0].Id',
    ]);
  });

  it('reads the bounds of double shapes from their generated names, which botocore keeps', () => {
    expect(kinds(tinyModel, 'Request', { Name: 'abc', Ratio: 1.5 })).toEqual(['out-of-range at Ratio']);
  });

  it('reports wrong types: a string for an integer, a fraction for an integer, a scalar for a list', () => {
    const value = { Name: 'abc', Count: '3', Flag: 'yes', Items: { Id: 1 }, Tags: { a: 1 } };

    expect(kinds(tinyModel, 'Request', { ...value })).toEqual([
      'wrong-type at Count',
      'wrong-type at Flag',
      'wrong-type at Items',
      'wrong-type at Tags["a"]',
    ]);
    expect(kinds(tinyModel, 'Request', { Name: 'abc', Count: 2.5 })).toEqual(['wrong-type at Count']);
  });

  it('reports a string that does not match the shape pattern', () => {
    expect(kinds(tinyModel, 'Request', { Name: 'ABC' })).toEqual(['pattern-mismatch at Name']);
  });

  it('catches each error kind in a real MediaConvert CreateJob request', () => {
    const request = {
      Settings: {
        OutputGroups: [
          {
            OutputGroupSettings: { Type: 'CMAF', CmafGroupSettings: { Destination: 's3://origin/main', SegmentLength: 0 } },
            Outputs: [{ VideoDescription: { Width: 8194, height: 720 } }],
          },
        ],
      },
    };

    expect(kinds(mediaConvert, 'CreateJobRequest', request)).toEqual([
      'missing-required at Role',
      'bad-enum at Settings.OutputGroups[0].OutputGroupSettings.Type',
      'out-of-range at Settings.OutputGroups[0].OutputGroupSettings.CmafGroupSettings.SegmentLength',
      'out-of-range at Settings.OutputGroups[0].Outputs[0].VideoDescription.Width',
      'unknown-member at Settings.OutputGroups[0].Outputs[0].VideoDescription.height',
    ]);
  });

  it('rejects a destination that is not an s3:// URL by the model pattern', () => {
    const request = { Role: 'arn:aws:iam::123456789012:role/mc', Settings: { OutputGroups: [{ OutputGroupSettings: { CmafGroupSettings: { Destination: 'https://x/main' } } }] } };

    expect(kinds(mediaConvert, 'CreateJobRequest', request)).toEqual([
      'pattern-mismatch at Settings.OutputGroups[0].OutputGroupSettings.CmafGroupSettings.Destination',
    ]);
  });
});
