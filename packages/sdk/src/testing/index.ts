export { ManualTimers } from './manual-timers.js';
export { hasFfmpeg, photoWithExif } from './photos.js';
