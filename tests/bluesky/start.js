// Start a PLC directory and a PDS on loopback for tests. Prints "READY <pds url>" when up.
const { PlcServer, Database } = require('@did-plc/server')
const pds = require('@atproto/pds')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')

async function main() {
  const plcPort = Number(process.env.PLC_PORT || 2582)
  const pdsPort = Number(process.env.PDS_PORT || 2583)
  const plcDb = Database.mock()
  const plc = PlcServer.create({ db: plcDb, port: plcPort })
  await plc.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-'))
  const env = {
    hostname: 'localhost',
    port: pdsPort,
    dataDirectory: dir,
    blobstoreDiskLocation: path.join(dir, 'blobs'),
    jwtSecret: crypto.randomBytes(16).toString('hex'),
    adminPassword: 'admin-pass',
    plcRotationKeyK256PrivateKeyHex: crypto.randomBytes(32).toString('hex'),
    didPlcUrl: `http://localhost:${plcPort}`,
    inviteRequired: false,
    devMode: true,
    crawlers: [],
    bskyAppViewUrl: 'http://localhost:9',
    bskyAppViewDid: 'did:web:localhost',
  }
  const cfg = pds.envToCfg(env)
  const secrets = pds.envToSecrets(env)
  const server = await pds.PDS.create(cfg, secrets)
  await server.start()
  console.log(`READY http://localhost:${pdsPort}`)
}
main().catch((err) => { console.error(err); process.exit(1) })
