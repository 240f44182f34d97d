import { CancelledError, errorMessage, InputError, oneLine, UserError } from '../../shared/util/errors.js';
import { Redactor } from '../../shared/util/redact.js';

describe('Redactor', () => {
  test('replaces every occurrence of every secret with ***', () => {
    const redactor = new Redactor();
    redactor.add('alpha-secret');
    redactor.add('beta-secret');
    expect(redactor.redact('alpha-secret, beta-secret and alpha-secret again')).toBe('***, *** and *** again');
  });

  test('leaves text without secrets unchanged', () => {
    const redactor = new Redactor();
    redactor.add('alpha-secret');
    expect(redactor.redact('nothing to hide')).toBe('nothing to hide');
  });

  test('ignores empty, undefined and values shorter than 3 characters', () => {
    const redactor = new Redactor();
    redactor.add(undefined);
    redactor.add('');
    redactor.add('ab');
    redactor.add('abc');
    expect(redactor.values()).toEqual(['abc']);
    expect(redactor.redact('ab abc')).toBe('ab ***');
  });

  test('a secret containing another is masked whole, whatever the order they were added in', () => {
    const redactor = new Redactor();
    redactor.add('pass');
    redactor.add('password123');
    expect(redactor.redact('password123 / pass')).toBe('*** / ***');
  });

  test('secrets are matched literally, not as regular expressions', () => {
    const redactor = new Redactor();
    redactor.add('a.b*c(d)');
    expect(redactor.redact('aXbbc(d) a.b*c(d)')).toBe('aXbbc(d) ***');
  });

  test('multi-line secrets are masked whole', () => {
    const redactor = new Redactor();
    redactor.add('-----BEGIN KEY-----\nabcdef\n-----END KEY-----');
    expect(redactor.redact('key: -----BEGIN KEY-----\nabcdef\n-----END KEY----- done')).toBe('key: *** done');
  });

  test('adding a value twice keeps one entry', () => {
    const redactor = new Redactor();
    redactor.add('same-value');
    redactor.add('same-value');
    expect(redactor.values()).toEqual(['same-value']);
  });
});

describe('oneLine', () => {
  test('joins lines with one space and trims the ends', () => {
    expect(oneLine('  first\n  second\r\nthird \r fourth\n\n')).toBe('first second third fourth');
  });

  test('keeps inner spacing on a single line', () => {
    expect(oneLine('a  b\tc')).toBe('a  b\tc');
  });
});

describe('errors', () => {
  test("InputError's message starts with the input's name", () => {
    const error = new InputError('buildArgs', 'line 2 has no =');
    expect(error.message).toBe("input 'buildArgs': line 2 has no =");
    expect(error.input).toBe('buildArgs');
    expect(error).toBeInstanceOf(UserError);
    expect(error).toBeInstanceOf(Error);
  });

  test('UserError is named so and CancelledError says what was cancelled', () => {
    expect(new UserError('x').name).toBe('UserError');
    expect(new CancelledError().message).toBe('the step was cancelled');
    expect(new CancelledError('docker').message).toBe('docker was cancelled');
    expect(new CancelledError()).toBeInstanceOf(UserError);
  });

  test('errorMessage accepts errors and anything else', () => {
    expect(errorMessage(new Error('bad'))).toBe('bad');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
