// The small part of the zip format Lambda deployment packages need: stored or deflated entries,
// no zip64, no encryption. Writing lets tests build packages; reading unpacks CreateFunction's Code.ZipFile.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const STORED = 0;
const DEFLATED = 8;
/** Bit 11: names are UTF-8. */
const UTF8 = 0x0800;

/** A zip that cannot be read; the message says what was found, as Lambda's "Could not unzip" does. */
export class ZipError extends Error {
  override readonly name = 'ZipError';
}

/** A zip archive of `files` (path → content), deflated, as `zip -r` would make it. */
export function writeZip(files: Record<string, string | Uint8Array>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [path, content] of Object.entries(files)) {
    const name = Buffer.from(path, 'utf8');
    const data = Buffer.from(content);
    const packed = deflateRawSync(data);
    const checksum = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(UTF8, 6);
    local.writeUInt16LE(DEFLATED, 8);
    local.writeUInt32LE(0x21, 10); // DOS time and date: 1980-01-01 00:00, so builds are reproducible
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8, 8);
    central.writeUInt16LE(DEFLATED, 10);
    central.writeUInt32LE(0x21, 12);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The files in a zip archive (path → content); directories are left out. Checks every CRC. */
export function readZip(zip: Uint8Array): Map<string, Buffer> {
  const buf = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end record sits in the last 22 bytes plus a comment of up to 64 KiB.
  let end = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === END_OF_CENTRAL) {
      end = i;
      break;
    }
  }
  if (end < 0)
    throw new ZipError(`not a zip archive (${buf.length} bytes, no end-of-directory record)`);
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== CENTRAL_HEADER) {
      throw new ZipError(`central directory entry ${n + 1} of ${count} is damaged`);
    }
    const method = buf.readUInt16LE(at + 10);
    const checksum = buf.readUInt32LE(at + 16);
    const packedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localAt = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (name.startsWith('/') || name.split(/[\\/]/).includes('..')) {
      throw new ZipError(`entry "${name}" points outside the archive's directory`);
    }
    if (buf.readUInt32LE(localAt) !== LOCAL_HEADER) {
      throw new ZipError(`entry "${name}" has no local header where the directory says`);
    }
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    const packed = buf.subarray(dataAt, dataAt + packedSize);
    let data: Buffer;
    if (method === STORED) data = Buffer.from(packed);
    else if (method === DEFLATED) data = inflate(name, packed);
    else
      throw new ZipError(
        `entry "${name}" uses compression method ${method}; expected stored (0) or deflate (8)`,
      );
    if (data.length !== size || crc32(data) !== checksum) {
      throw new ZipError(`entry "${name}" is corrupt (size or CRC-32 does not match its header)`);
    }
    files.set(name, data);
  }
  return files;
}

function inflate(name: string, packed: Buffer): Buffer {
  try {
    return inflateRawSync(packed);
  } catch (error) {
    throw new ZipError(`entry "${name}" is corrupt (${(error as Error).message})`);
  }
}
