//! A tiny PNG encoder for the simulator's QR code picture (stored deflate blocks, no
//! compression library needed). The picture looks like a QR code; it encodes nothing,
//! since there is no WhatsApp to pair with.

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A black-and-white PNG of `modules`×`modules` cells, `scale` pixels each, from `seed`.
pub fn qr_like(seed: &str, modules: usize, scale: usize) -> Vec<u8> {
    let size = modules * scale;
    let mut bits = Vec::with_capacity(modules * modules);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..modules * modules {
        for b in seed.bytes().chain((i as u32).to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        bits.push(h & 1 == 1);
    }
    let finder = |x: usize, y: usize| -> Option<bool> {
        for (ox, oy) in [(0, 0), (modules - 7, 0), (0, modules - 7)] {
            if x >= ox && x < ox + 7 && y >= oy && y < oy + 7 {
                let (dx, dy) = (x - ox, y - oy);
                let ring = dx.min(dy).min(6 - dx).min(6 - dy);
                return Some(ring != 1);
            }
        }
        None
    };
    let mut raw = Vec::with_capacity(size * (size + 1));
    for py in 0..size {
        raw.push(0); // filter: none
        for px in 0..size {
            let (x, y) = (px / scale, py / scale);
            let dark = finder(x, y).unwrap_or(bits[y * modules + x]);
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let mut z = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    while let Some(block) = blocks.next() {
        z.push(if blocks.peek().is_none() { 1 } else { 0 });
        z.extend_from_slice(&(block.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(size as u32).to_be_bytes());
    ihdr.extend_from_slice(&(size as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_a_png() {
        let png = super::qr_like("abc", 25, 4);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(
            png.ends_with(&[0xae, 0x42, 0x60, 0x82]),
            "IEND chunk with its CRC"
        );
    }
}
