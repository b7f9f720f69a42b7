//! Generation with tiny random models: sampling and beam search are deterministic under a
//! seed, scores are true mean log-probabilities (recomputed with a full forward), duplicates
//! are removed, batching prompts changes nothing, prefixes are honoured.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use proofstep::model::{
    CausalLm, Decoding, GenerateOptions, Generator, ModelConfig, Predictor, ProofTokenizer,
    Sequence,
};

const EOS: u32 = 0;

fn model(kind: &str, vocab: usize, scale: f64) -> CausalLm {
    let v = match kind {
        "llama" => serde_json::json!({
            "model_type": "llama", "vocab_size": vocab, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "eos_token_id": EOS, "tie_word_embeddings": true
        }),
        _ => serde_json::json!({
            "model_type": "gpt_neox", "vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "rotary_pct": 0.5, "eos_token_id": EOS
        }),
    };
    let lm = CausalLm::random_seeded(
        ModelConfig::from_json(&v.to_string()).unwrap(),
        &Device::Cpu,
        7,
    )
    .unwrap();
    // Sharper distributions than the 0.02 initialisation gives, so choices are not all ties.
    for var in lm.varmap().all_vars() {
        var.set(&(var.as_tensor() * scale).unwrap()).unwrap();
    }
    lm
}

fn tokenizer() -> ProofTokenizer {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tokenizers/gpt-neox-20b-tokenizer.json");
    ProofTokenizer::from_file(&path, None).unwrap()
}

/// A generator over a small vocabulary (the GPT-NeoX tokenizer's first ids).
fn generator(kind: &str, scale: f64) -> Generator {
    Generator::new(model(kind, 64, scale), tokenizer(), vec![EOS])
}

/// A generator whose vocabulary covers the GPT-NeoX tokenizer, for text prompts.
fn text_generator(kind: &str, scale: f64) -> Generator {
    Generator::new(model(kind, 50304, scale), tokenizer(), vec![EOS])
}

fn sampling(temperatures: Vec<f32>, samples: usize, seed: u64) -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Sample {
            temperatures,
            samples,
            top_p: 0.95,
        },
        max_new_tokens: 12,
        seed,
    }
}

/// Sampling without the nucleus cut (cheap over a 50k vocabulary of a random model).
fn sampling_full(temperatures: Vec<f32>, samples: usize, seed: u64) -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Sample {
            temperatures,
            samples,
            top_p: 1.0,
        },
        max_new_tokens: 8,
        seed,
    }
}

fn beam(width: usize) -> GenerateOptions {
    GenerateOptions {
        decoding: Decoding::Beam { width },
        max_new_tokens: 12,
        seed: 0,
    }
}

/// Mean log-probability of `seq` after `prompt`, from one full training forward.
fn true_score(lm: &CausalLm, prompt: &[u32], seq: &Sequence) -> f64 {
    let mut ids = prompt.to_vec();
    ids.extend(&seq.tokens);
    if seq.ended {
        ids.push(EOS);
    }
    let n = ids.len();
    let logits = lm
        .forward_train(
            &Tensor::new(&ids[..n - 1], &Device::Cpu)
                .unwrap()
                .unsqueeze(0)
                .unwrap(),
        )
        .unwrap();
    let lp = candle_nn::ops::log_softmax(&logits.squeeze(0).unwrap(), 1).unwrap();
    let lp: Vec<Vec<f32>> = lp.to_vec2().unwrap();
    let generated = n - prompt.len();
    let total: f64 = (prompt.len()..n)
        .map(|i| lp[i - 1][ids[i] as usize] as f64)
        .sum();
    total / generated as f64
}

fn prompts() -> Vec<Vec<u32>> {
    vec![
        vec![5, 9, 13, 2, 7],
        vec![3, 8, 60],
        vec![11, 12, 13, 14, 15, 16, 17],
    ]
}

#[test]
fn sampling_is_deterministic_under_a_seed() {
    for kind in ["llama", "gpt_neox"] {
        let g = generator(kind, 6.0);
        let a = g
            .generate_ids(&prompts(), &sampling(vec![0.7, 1.0], 6, 42))
            .unwrap();
        let b = g
            .generate_ids(&prompts(), &sampling(vec![0.7, 1.0], 6, 42))
            .unwrap();
        let c = g
            .generate_ids(&prompts(), &sampling(vec![0.7, 1.0], 6, 43))
            .unwrap();
        assert_eq!(a, b, "{kind}: same seed, different candidates");
        assert_ne!(a, c, "{kind}: the seed is ignored");
        assert!(
            a.iter().all(|p| p.len() == 12),
            "{kind}: 2 temperatures x 6 samples per prompt"
        );
    }
}

#[test]
fn beam_search_is_deterministic_and_sorted() {
    for kind in ["llama", "gpt_neox"] {
        let g = generator(kind, 6.0);
        let a = g.generate_ids(&prompts(), &beam(4)).unwrap();
        let b = g.generate_ids(&prompts(), &beam(4)).unwrap();
        assert_eq!(a, b, "{kind}");
        for seqs in &a {
            assert_eq!(seqs.len(), 4, "{kind}: width 4 gives 4 sequences");
            assert!(
                seqs.windows(2).all(|w| w[0].score() >= w[1].score()),
                "{kind}: not sorted"
            );
            let distinct: std::collections::HashSet<_> =
                seqs.iter().map(|s| (&s.tokens, s.ended)).collect();
            assert_eq!(distinct.len(), seqs.len(), "{kind}: beams repeat");
        }
    }
}

#[test]
fn scores_are_true_log_probabilities() {
    for kind in ["llama", "gpt_neox"] {
        let g = generator(kind, 6.0);
        let ps = prompts();
        let sampled = g.generate_ids(&ps, &sampling(vec![1.0], 16, 7)).unwrap();
        let beamed = g.generate_ids(&ps, &beam(3)).unwrap();
        let mut ended = 0;
        for out in [sampled, beamed] {
            for (prompt, seqs) in ps.iter().zip(&out) {
                for s in seqs {
                    ended += usize::from(s.ended);
                    assert!(
                        !s.tokens.contains(&EOS),
                        "{kind}: end token inside a candidate"
                    );
                    let want = true_score(g.lm(), prompt, s);
                    assert!(
                        (s.score() - want).abs() < 1e-4,
                        "{kind}: score {} vs full forward {want}",
                        s.score()
                    );
                    assert!(s.score() <= 0.0);
                }
            }
        }
        assert!(
            ended > 0,
            "{kind}: no candidate reached the end token; the test checks nothing about it"
        );
    }
}

#[test]
fn batching_prompts_changes_nothing() {
    let g = generator("llama", 6.0);
    let ps = prompts();
    let together = g
        .generate_ids(&ps, &sampling(vec![0.0, 1.0], 3, 5))
        .unwrap();
    for (i, p) in ps.iter().enumerate() {
        let alone = g
            .generate_ids(std::slice::from_ref(p), &sampling(vec![0.0, 1.0], 3, 5))
            .unwrap();
        let toks = |v: &Vec<Sequence>| v.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>();
        assert_eq!(toks(&alone[0]), toks(&together[i]), "prompt {i}");
    }
}

#[test]
fn duplicates_are_removed_and_candidates_sorted() {
    let g = text_generator("gpt_neox", 6.0);
    let prompt = vec!["[GOAL]n : ℕ\n⊢ n + 0 = n[PROOFSTEP]".to_string()];
    // Greedy decoding four times gives one text four times: one candidate must remain.
    let greedy = g
        .generate(&prompt, &sampling_full(vec![0.0], 4, 0))
        .unwrap();
    assert_eq!(greedy[0].len(), 1, "{:?}", greedy[0]);
    let many = g
        .generate(&prompt, &sampling_full(vec![0.3, 1.0], 6, 0))
        .unwrap();
    let texts: std::collections::HashSet<_> = many[0].iter().map(|c| c.text.clone()).collect();
    assert_eq!(texts.len(), many[0].len(), "duplicate texts");
    assert!(
        many[0].windows(2).all(|w| w[0].score >= w[1].score),
        "not sorted"
    );
}

#[test]
fn prefix_constrained_candidates_start_with_the_prefix() {
    let g = text_generator("llama", 6.0);
    let prompts = vec![
        "[GOAL]⊢ True[PROOFSTEP]".to_string(),
        "[GOAL]⊢ False[PROOFSTEP]".to_string(),
    ];
    let prefixes = vec!["simp".to_string(), "exact".to_string()];
    let out = g
        .generate_with_prefixes(&prompts, &prefixes, &sampling_full(vec![1.0], 3, 1))
        .unwrap();
    for (cands, prefix) in out.iter().zip(&prefixes) {
        assert!(!cands.is_empty());
        assert!(
            cands.iter().all(|c| c.text.starts_with(prefix.as_str())),
            "{cands:?}"
        );
    }
    // The prefix is part of the prompt: its continuation equals generating from prompt + prefix.
    let direct = g
        .generate(
            &["[GOAL]⊢ True[PROOFSTEP]simp".to_string()],
            &sampling_full(vec![1.0], 3, 1),
        )
        .unwrap();
    let with: Vec<String> = out[0]
        .iter()
        .map(|c| c.text.trim_start_matches("simp").to_string())
        .collect();
    let plain: Vec<String> = direct[0].iter().map(|c| c.text.clone()).collect();
    assert_eq!(with, plain);
}

#[test]
fn nucleus_sampling_keeps_only_the_top_p_mass() {
    use proofstep::model::generate::sampling::sample;
    use rand::SeedableRng;
    // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two only.
    let logits: Vec<f32> = [0.5f32, 0.3, 0.15, 0.05].iter().map(|p| p.ln()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut counts = [0usize; 4];
    for _ in 0..4000 {
        counts[sample(&logits, 1.0, 0.7, &mut rng).0 as usize] += 1;
    }
    assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
    let share = counts[0] as f64 / 4000.0;
    assert!(
        (share - 0.625).abs() < 0.03,
        "token 0 drawn {share}, expected 0.5/0.8"
    );
    // Temperature 0 is greedy.
    assert_eq!(sample(&logits, 0.0, 0.7, &mut rng).0, 0);
}

#[test]
fn token_pieces_spell_the_decoded_text_even_inside_characters() {
    let tok = tokenizer();
    for text in [
        "intro h\n  exact ⟨h.2, h.1⟩",
        "rw [Nat.add_zero] at h ⊢",
        " simp_all [∀ x, x ∈ s → x ≠ 0]",
    ] {
        let ids = tok.encode(text).unwrap();
        let pieces = tok.pieces(&ids).unwrap();
        assert_eq!(pieces.len(), ids.len());
        assert_eq!(pieces.concat(), tok.decode(&ids).unwrap(), "{text:?}");
    }
    // GPT-NeoX's byte-level vocabulary splits some characters over two tokens: the first adds
    // nothing, the second the whole character.
    let split = ["⟨", "⊢", "∀", "🦀"]
        .into_iter()
        .find(|c| tok.encode(c).unwrap().len() > 1)
        .expect("a character the vocabulary splits");
    let pieces = tok.pieces(&tok.encode(split).unwrap()).unwrap();
    assert_eq!(pieces.last().unwrap(), split);
    assert!(pieces[..pieces.len() - 1].iter().all(String::is_empty));
    assert_eq!(tok.token_text(0), "<|endoftext|>");
}

/// Candidates of unpadded prompts (one prompt, and two of the same length) share the prompts'
/// keys and values in the KV cache: their scores are still the log-probabilities a full forward
/// gives, sampled and in beams, on both architectures, and beams find what they find when the
/// prompts are batched with a shorter one (padding: the rows copy the prompt instead).
#[test]
fn candidates_sharing_a_prompt_score_as_a_full_forward() {
    for kind in ["llama", "gpt_neox"] {
        let g = generator(kind, 6.0);
        let same_length = [
            vec![vec![5u32, 9, 13, 2, 7]],
            vec![vec![5u32, 9, 13, 2, 7], vec![1, 2, 3, 4, 6]],
        ];
        for ps in same_length {
            let sampled = g.generate_ids(&ps, &sampling(vec![1.0], 16, 7)).unwrap();
            let beamed = g.generate_ids(&ps, &beam(3)).unwrap();
            for out in [sampled, beamed.clone()] {
                for (prompt, seqs) in ps.iter().zip(&out) {
                    for s in seqs {
                        let want = true_score(g.lm(), prompt, s);
                        assert!(
                            (s.score() - want).abs() < 1e-4,
                            "{kind}: {} vs {want}",
                            s.score()
                        );
                    }
                }
            }
            let mut padded = ps.clone();
            padded.push(vec![3, 8]);
            let copied = g.generate_ids(&padded, &beam(3)).unwrap();
            let tokens = |v: &Vec<Sequence>| v.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>();
            for i in 0..ps.len() {
                assert_eq!(
                    tokens(&beamed[i]),
                    tokens(&copied[i]),
                    "{kind} beam prompt {i}"
                );
            }
        }
    }
}

/// What a flag or request asks for cannot exhaust memory (the twenty-second audit: `serve -n
/// 1000000000` or `--max-new-tokens 1000000000` aborted on the first request): more sequences
/// per prompt than `MAX_SEQUENCES` is an error, new tokens stop at the model's context, and
/// many prompts are decoded a chunk at a time with the same candidates.
#[test]
fn requests_are_bounded_by_the_decoding_caches() {
    let g = generator("llama", 1.0);
    for options in [sampling(vec![0.5], 1_000_000_000, 0), beam(100_000)] {
        let error = g
            .generate_ids(&prompts(), &options)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ask for fewer"), "{error}");
    }
    let mut long = sampling(vec![1.0], 2, 3);
    long.max_new_tokens = 1_000_000_000;
    let context = g.lm().config().context_length();
    for per_prompt in g.generate_ids(&prompts(), &long).unwrap() {
        assert!(per_prompt.iter().all(|s| s.tokens.len() <= context));
    }
    let many: Vec<Vec<u32>> = prompts().into_iter().cycle().take(3000).collect();
    let options = sampling(vec![0.5, 1.0], 2, 5);
    let all = g.generate_ids(&many, &options).unwrap();
    assert_eq!(all.len(), 3000);
    // The same tokens (scores differ in the last bits with the batch's size).
    let tokens = |seqs: &[Vec<Sequence>]| -> Vec<Vec<Vec<u32>>> {
        seqs.iter()
            .map(|p| p.iter().map(|s| s.tokens.clone()).collect())
            .collect()
    };
    let alone = g.generate_ids(&prompts(), &options).unwrap();
    assert_eq!(tokens(&all[..prompts().len()]), tokens(&alone));
}
