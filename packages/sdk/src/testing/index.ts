export { ManualTimers } from './manual-timers.js';
export { photoWithExif } from './photos.js';
