// preload.cjs — `node --require preload.cjs SERVER.js`: makes every
// listen(port) that names no host bind 127.0.0.1, so that the MCP SDK's
// example server (which listens on all interfaces) stays on loopback in
// the end-to-end suite.
'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const a = args[0];
  if (typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (a && typeof a === 'object' && a.port !== undefined && !a.host && !a.path) {
    args[0] = { ...a, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
