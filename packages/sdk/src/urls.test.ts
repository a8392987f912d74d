import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offeredSubprotocols } from '@parley/protocol';
import { apiUrl, normalizeServerUrl, webSocketUrl, withTokenQuery } from './urls.js';

test('http becomes ws and https becomes wss, at /v1/ws', () => {
  assert.equal(webSocketUrl('http://localhost:8080'), 'ws://localhost:8080/v1/ws');
  assert.equal(webSocketUrl('https://chat.example.org/'), 'wss://chat.example.org/v1/ws');
});

test('a path prefix is kept and a trailing slash, query or fragment dropped', () => {
  assert.equal(webSocketUrl('https://example.org/parley/'), 'wss://example.org/parley/v1/ws');
  assert.equal(apiUrl('http://h:1/p/?x=1#y', '/v1/devices'), 'http://h:1/p/v1/devices');
});

test('only http(s) URLs are accepted', () => {
  assert.throws(() => normalizeServerUrl('ws://h'), /http/);
  assert.throws(() => normalizeServerUrl('localhost:8080'), /http|valid/);
  assert.throws(() => normalizeServerUrl('not a url'), /valid/);
});

test('the token query is URL-encoded', () => {
  assert.equal(withTokenQuery('ws://h/v1/ws', 'a+b/c='), 'ws://h/v1/ws?token=a%2Bb%2Fc%3D');
});

test('the client offers the subprotocol of its encoding', () => {
  assert.deepEqual(offeredSubprotocols('proto'), ['parley.v2.proto', 'parley.v1.proto']);
  assert.deepEqual(offeredSubprotocols('json'), ['parley.v2.json', 'parley.v1.json']);
});
