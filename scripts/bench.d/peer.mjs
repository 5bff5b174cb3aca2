// The peer of scripts/bench: node-oidc-provider 9 in its default in-memory
// configuration (quick-start adapter and keys), with one client_credentials client and
// introspection turned on, on plain http loopback at PORT. It prints warnings about its
// development-only defaults at start: they are the configuration being measured.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench-client',
    client_secret: 'bench-client-secret-0123456789abcdef',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
});
http.createServer(provider.callback()).listen(port, '127.0.0.1');
