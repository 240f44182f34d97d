import { parseImageName } from '../../shared/registry/reference.js';

test('jest runs TypeScript ESM sources', () => {
  expect(parseImageName('localhost:5000/a/b')).toEqual({ registry: 'localhost:5000', repository: 'a/b', name: 'localhost:5000/a/b' });
});
