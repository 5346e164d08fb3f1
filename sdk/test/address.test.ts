// EIP-55 checksums against viem's getAddress.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getAddress } from "viem";
import { checksumAddress, hasValidChecksum, isAddressShaped } from "../src/address.ts";

test("checksumAddress equals viem's getAddress on 500 pseudo-random addresses", () => {
  let x = 0x9e3779b9;
  const nextHex = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0).toString(16).padStart(8, "0");
  };
  for (let i = 0; i < 500; i++) {
    const lower = `0x${Array.from({ length: 5 }, nextHex).join("")}`;
    const expected = getAddress(lower);
    assert.equal(checksumAddress(lower), expected);
    assert.equal(checksumAddress(lower.toUpperCase().replace("0X", "0x")), expected);
    assert.equal(hasValidChecksum(expected), true);
  }
});

test("EIP-55 examples; one flipped letter breaks the checksum", () => {
  for (const address of ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]) {
    assert.equal(checksumAddress(address.toLowerCase()), address);
    assert.equal(hasValidChecksum(address), true);
  }
  assert.equal(hasValidChecksum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), false);
  assert.equal(hasValidChecksum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), true); // no checksum to check
});

test("isAddressShaped", () => {
  assert.equal(isAddressShaped(`0x${"a".repeat(40)}`), true);
  assert.equal(isAddressShaped(`0x${"a".repeat(39)}`), false);
  assert.equal(isAddressShaped(`0X${"a".repeat(40)}`), false);
  assert.equal(isAddressShaped(42), false);
});
