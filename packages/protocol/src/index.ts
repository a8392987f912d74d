export { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
export * from './codec.js';
export * from './errors.js';
export * from './gen/parley/v1/parley_pb.js';
export * from './mutes.js';
export * from './version.js';
