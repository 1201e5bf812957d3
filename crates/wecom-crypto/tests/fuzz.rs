//! A bounded, stable-toolchain fuzz run over every public parsing entry point: no input may panic.
//!
//! `cargo fuzz` needs a nightly toolchain, which CI does not use, so this is a structure-aware mutation
//! fuzzer that runs as an ordinary test. Each round takes a seed (valid envelopes, ciphertexts, frames and
//! event XML) or random bytes, mutates it (bit flips, byte edits, insertions, deletions, splices, truncation,
//! repetition) and feeds it to:
//! `CallbackCrypto::new`, `verify_url`, `decrypt_message`, `decrypt`, `PostEnvelope::parse`,
//! `ReplyEnvelope::parse`, `parse_event` (+ `dedup_key`) and `pkcs7::unpad`. Mutated ciphertexts are also
//! re-signed, and mutated plaintext frames re-encrypted, so the rounds get past the signature and the
//! cipher into padding, frame and receive-id parsing.
//!
//! Budget: `SCRM_FUZZ_SECS` seconds (default 8) or `SCRM_FUZZ_ITERS` rounds, whichever ends first;
//! `SCRM_FUZZ_SEED` fixes the seed (printed on failure). A longer run:
//! `SCRM_FUZZ_SECS=600 cargo test -p scrm-wecom-crypto --release --test fuzz -- --nocapture`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use scrm_wecom_crypto::{CallbackCrypto, PostEnvelope, ReplyEnvelope, parse_event, pkcs7};

const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORP: &str = "wx5823bf96d3bd56c7";
const ECHOSTR: &str = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn event_seeds() -> Vec<String> {
    let dir = format!("{}/tests/fixtures/push", env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    seeds.sort();
    seeds.push("<xml><Event>x</Event><A><B><C>&amp;&#x41;<![CDATA[]]]]><![CDATA[>]]></C></B></A></xml>".into());
    seeds
}

fn mutate(rng: &mut StdRng, data: &mut Vec<u8>, dictionary: &[&[u8]]) {
    let rounds = rng.random_range(1..=8);
    for _ in 0..rounds {
        match rng.random_range(0..9) {
            0 if !data.is_empty() => {
                let i = rng.random_range(0..data.len());
                data[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !data.is_empty() => {
                let i = rng.random_range(0..data.len());
                data[i] = rng.random();
            }
            2 => {
                let i = rng.random_range(0..=data.len());
                let n = rng.random_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                data.splice(i..i, bytes);
            }
            3 if !data.is_empty() => {
                let a = rng.random_range(0..data.len());
                let b = rng.random_range(a..=data.len().min(a + 32));
                data.drain(a..b);
            }
            4 => {
                let word = dictionary[rng.random_range(0..dictionary.len())];
                let i = rng.random_range(0..=data.len());
                data.splice(i..i, word.iter().copied());
            }
            5 if !data.is_empty() => {
                let n = rng.random_range(0..data.len());
                data.truncate(n);
            }
            6 if !data.is_empty() && data.len() < 4096 => {
                let a = rng.random_range(0..data.len());
                let b = rng.random_range(a..=data.len());
                let copy = data[a..b].to_vec();
                let i = rng.random_range(0..=data.len());
                data.splice(i..i, copy);
            }
            7 if data.len() >= 4 => {
                // Interesting integers, e.g. over the length field.
                let i = rng.random_range(0..data.len() - 3);
                let v: u32 = [0, 1, 0x7f, 0xff, 0xffff, 0x7fff_ffff, u32::MAX, 32, 33][rng.random_range(0..9)];
                data[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            _ => {
                let n = rng.random_range(0..64);
                data.extend((0..n).map(|_| rng.random::<u8>()));
            }
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One fuzz round; `input` describes the input (set before any parser runs) for the failure report.
fn round(
    rng: &mut StdRng,
    crypto: &CallbackCrypto,
    events: &[String],
    sealed: &[(String, String)],
    input: &mut String,
) {
    let dictionary: &[&[u8]] = &[
        b"<xml>",
        b"</xml>",
        b"<Encrypt>",
        b"</Encrypt>",
        b"<![CDATA[",
        b"]]>",
        b"&amp;",
        b"&#x0;",
        b"&#99999999;",
        b"&bogus;",
        b"<!DOCTYPE x>",
        b"<Item>",
        b"</Item>",
        b"<ChangeType>update</ChangeType>",
        b"<Event>change_contact</Event>",
        b"<CreateTime>-1</CreateTime>",
        b"==",
        b"+/",
        b",",
        b"\xff\xfe",
    ];
    match rng.random_range(0..8) {
        // Event XML.
        0 | 1 => {
            let mut data = events[rng.random_range(0..events.len())].clone().into_bytes();
            mutate(rng, &mut data, dictionary);
            let xml = lossy(&data);
            *input = format!("event xml {xml:?}");
            if let Ok(event) = parse_event(&xml) {
                let key = event.dedup_key();
                assert_eq!(key.len(), 44);
                let _ = (event.event(), event.change_type(), event.header());
            }
            let _ = PostEnvelope::parse(&xml);
            let _ = ReplyEnvelope::parse(&xml);
        }
        // POST bodies, signed after mutation (reaches decryption) or not.
        2 | 3 => {
            let (body, _) = &sealed[rng.random_range(0..sealed.len())];
            let mut data = body.clone().into_bytes();
            mutate(rng, &mut data, dictionary);
            let body = lossy(&data);
            *input = format!("post body {body:?}");
            let sig = match PostEnvelope::parse(&body) {
                Ok(env) if rng.random_bool(0.8) => crypto.signature("1", "n", &env.encrypt),
                _ => "da39a3ee5e6b4b0d3255bfef95601890afd80709".to_owned(),
            };
            let _ = crypto.decrypt_message(&sig, "1", "n", &body);
            if let Ok(env) = ReplyEnvelope::parse(&body) {
                let _ = crypto.decrypt_message(&env.msg_signature, &env.timestamp, &env.nonce, &body);
            }
        }
        // Ciphertexts (base64 text), re-signed for verify_url.
        4 => {
            let (_, enc) = &sealed[rng.random_range(0..sealed.len())];
            let mut data = if rng.random_bool(0.2) { ECHOSTR.as_bytes().to_vec() } else { enc.clone().into_bytes() };
            mutate(rng, &mut data, dictionary);
            let enc = lossy(&data);
            *input = format!("ciphertext {enc:?}");
            let sig = crypto.signature("1409659589", "263014780", &enc);
            let _ = crypto.verify_url(&sig, "1409659589", "263014780", &enc);
            let _ = crypto.decrypt(&enc);
        }
        // Plaintext frames, re-encrypted: padding, length field, receive id, UTF-8.
        5 | 6 => {
            let mut frame = vec![0u8; 16];
            let msg = events[rng.random_range(0..events.len())].as_bytes();
            frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
            frame.extend_from_slice(msg);
            frame.extend_from_slice(CORP.as_bytes());
            pkcs7::pad(&mut frame);
            mutate(rng, &mut frame, dictionary);
            *input = format!("frame {frame:?}");
            let _ = pkcs7::unpad(&frame);
            if rng.random_bool(0.5) {
                pkcs7::pad(&mut frame);
            } else {
                frame.resize(frame.len().div_ceil(16) * 16, 0);
            }
            if let Ok(enc) = crypto.encrypt_raw(&frame) {
                let sig = crypto.signature("1", "n", &enc);
                if let Ok(xml) = crypto.verify_url(&sig, "1", "n", &enc) {
                    let _ = parse_event(&xml).map(|e| e.dedup_key());
                }
            }
        }
        // Configuration: tokens and keys.
        _ => {
            let mut key = KEY.as_bytes().to_vec();
            mutate(rng, &mut key, dictionary);
            let key = lossy(&key);
            let mut token = vec![0u8; rng.random_range(0..4)];
            rng.fill_bytes(&mut token);
            *input = format!("key {key:?} token {token:?}");
            if let Ok(c) = CallbackCrypto::new(lossy(&token), &key, CORP) {
                let _ = c.verify_url("x", "1", "n", ECHOSTR);
                let _ = c.decrypt(ECHOSTR);
            }
        }
    }
}

#[test]
fn fuzz_every_parser_without_panics() {
    let secs = env_u64("SCRM_FUZZ_SECS").unwrap_or(8);
    let max_iters = env_u64("SCRM_FUZZ_ITERS").unwrap_or(u64::MAX);
    let seed = env_u64("SCRM_FUZZ_SEED").unwrap_or_else(rand::random);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rng = StdRng::seed_from_u64(seed);

    let crypto = CallbackCrypto::new(TOKEN, KEY, CORP).unwrap();
    let events = event_seeds();
    let sealed: Vec<(String, String)> = events
        .iter()
        .map(|xml| {
            let post = crypto.seal_post(xml, "1", "n", Some(CORP), Some("218")).unwrap();
            let enc = PostEnvelope::parse(&post.body).unwrap().encrypt;
            (post.body, enc)
        })
        .chain(std::iter::once((crypto.encrypt_message("<xml/>", "1", "n").unwrap(), ECHOSTR.to_owned())))
        .collect();

    let mut iters = 0u64;
    while iters < max_iters && (!iters.is_multiple_of(64) || Instant::now() < deadline) {
        // Each round draws from its own seed, so a failure names the exact round to replay.
        let round_seed = rng.next_u64();
        let mut round_rng = StdRng::seed_from_u64(round_seed);
        let mut input = String::new();
        let result = catch_unwind(AssertUnwindSafe(|| round(&mut round_rng, &crypto, &events, &sealed, &mut input)));
        if result.is_err() {
            panic!("panic in fuzz round {iters} (SCRM_FUZZ_SEED={seed}, round seed {round_seed}): {input}");
        }
        iters += 1;
    }
    println!("fuzz: {iters} rounds in {secs} s budget, SCRM_FUZZ_SEED={seed}");
    assert!(iters > 0);
}
