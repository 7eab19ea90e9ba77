// socket.io 4 with one room, the broadcast the way its docs show it (bench/fanout's
// `node-socketio`): subscribers join room "bench" on connect; a client connecting with
// `?role=pub` publishes, and each `publish` event is emitted as `message` to the room.
// WebSocket transport only, no compression: the same frames the other peers send.
//
//     node bench/peers/node/socketio_server.js --port 8804
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const ROOM = 'bench';
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });

io.on('connection', (socket) => {
  if (socket.handshake.query.role === 'pub') {
    socket.on('publish', (data) => socket.to(ROOM).emit('message', data));
  } else {
    socket.join(ROOM);
  }
});

server.listen(port, '127.0.0.1', 4096);
process.on('SIGTERM', () => process.exit(0));
