// The Node.js ceiling: a `ws` 8 broadcast server, nothing else (bench/fanout's `node-ws`).
// `/sub` sockets subscribe; every text frame received on `/pub` is sent as-is to every
// subscriber, the loop the ws README shows for a broadcast. No persistence, no validation.
//
//     node bench/peers/node/ws_broadcast.js --port 8803
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const subs = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const pubs = new WebSocketServer({ noServer: true, perMessageDeflate: false });

server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?')[0];
  const wss = path === '/sub' ? subs : path === '/pub' ? pubs : null;
  if (wss === null) { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

subs.on('connection', (ws) => { ws.on('error', () => {}); });
pubs.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const client of subs.clients) {
      client.send(data, { binary: false });
    }
  });
});

server.listen(port, '127.0.0.1', 4096);
process.on('SIGTERM', () => process.exit(0));
