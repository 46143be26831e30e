/**
 * Reads a callgrind dump (uncompressed names: `--compress-strings=no`) and sums each function's own
 * instructions into groups that say whose work it is. JIT-compiled JavaScript has no symbols, so
 * it is one group; V8's and OpenSSL's functions are named.
 */
export const GROUPS = [
  'OpenSSL (RSA arithmetic, SHA-256)',
  'V8 garbage collector and heap',
  'V8 optimizing compiler',
  'V8 inline caches and object shapes',
  'V8 builtins (interpreter, JSON, strings, promises)',
  'JIT-compiled JavaScript',
  'V8 other',
  'Node, libuv, llhttp (C++)',
  'libc, libstdc++ (malloc, memcpy, syscalls)',
  'other',
] as const;
export type Group = (typeof GROUPS)[number];

function groupOf(object: string, name: string): Group {
  if (object === '???' || name.startsWith('0x')) return 'JIT-compiled JavaScript';
  if (
    /^(BN_|bn_|RSA|rsa|EVP_|evp_|ossl_|OSSL_|CRYPTO_|sha256|SHA256|ERR_|OPENSSL_|pkey_|ASN1|asn1|rsaz|RSAZ|x25519|ec_|EC_|BIO_|OBJ_|X509|PROV|int_rsa)/.test(
      name,
    )
  )
    return 'OpenSSL (RSA arithmetic, SHA-256)';
  if (name.includes('v8::internal::compiler::') || /maglev|turboshaft|Pipeline/i.test(name))
    return 'V8 optimizing compiler';
  if (
    /v8::internal::(Heap|Scaveng|MarkCompact|Marking|MinorMark|Sweep|Evacuat|Concurrent|Mark|Remembered|SlotSet|MemoryChunk|PageMetadata|MutablePage|LargeObject|PagedSpace|NewSpace|SemiSpace|MainAllocator|LocalHeap|FreeList|HeapObject::SizeFromMap|GCTracer|IncrementalMarking|Worklist|ArrayBufferSweeper)/.test(
      name,
    )
  )
    return 'V8 garbage collector and heap';
  if (
    /v8::internal::(LookupIterator|LoadIC|StoreIC|KeyedLoadIC|KeyedStoreIC|IC::|FeedbackNexus|StubCache|Map::|JSObject::MigrateToMap|DescriptorArray|FieldIndex|TransitionsAccessor|Runtime_LoadIC|Runtime_StoreIC|Runtime_KeyedLoadIC|Runtime_KeyedStoreIC|MapUpdater|JSObject::MakePrototypesFast)/.test(
      name,
    )
  )
    return 'V8 inline caches and object shapes';
  if (name.startsWith('Builtins_')) return 'V8 builtins (interpreter, JSON, strings, promises)';
  if (name.includes('v8::')) return 'V8 other';
  if (/node::|uv_|uv__|llhttp/.test(name)) return 'Node, libuv, llhttp (C++)';
  if (/libc\.so|libstdc\+\+|ld-linux|libm\.so/.test(object))
    return 'libc, libstdc++ (malloc, memcpy, syscalls)';
  return 'other';
}

/** Instructions of each group in a dump (its functions' own costs, calls not counted twice). */
export function groupInstructions(text: string): Record<Group, number> {
  const totals = Object.fromEntries(GROUPS.map((group) => [group, 0])) as Record<Group, number>;
  const names = new Map<string, string>();
  const objects = new Map<string, string>();
  const resolve = (value: string, table: Map<string, string>) => {
    const match = /^\((\d+)\)\s*(.*)$/.exec(value);
    if (!match) return value;
    if (match[2]) table.set(match[1], match[2]);
    return table.get(match[1]) ?? match[2];
  };
  let object = '???';
  let group: Group = 'other';
  let afterCalls = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('ob=')) object = resolve(line.slice(3), objects);
    else if (line.startsWith('fn=')) group = groupOf(object, resolve(line.slice(3), names));
    else if (line.startsWith('calls=')) afterCalls = true;
    else if (/^[0-9+*-]/.test(line)) {
      // The line after calls= is the callee's inclusive cost: counted in the callee's own lines.
      if (afterCalls) afterCalls = false;
      else totals[group] += Number(line.split(' ')[1] ?? 0);
    }
  }
  return totals;
}
