//! A GGUF model run in-process by llama.cpp (through `llama-cpp-2`), on the CPU, with the
//! model's own chat template. Built only with the `local` feature: llama.cpp needs cmake,
//! clang and libclang-dev and takes minutes to compile.
//!
//! llama.cpp is compiled with AVX, AVX2, FMA, F16C and BMI2 (x86-64-v3) and not for the native
//! CPU: `.cargo/config.toml` sets `GGML_*` for its build. Built natively, llama.cpp takes AMX
//! code paths on the processors of our CI machines and crashes at the first inference step.
//!
//! One generation runs at a time per model (using every thread it is given); decoding is
//! greedy, and with `json` a JSON grammar constrains the reply to one JSON object (checked on
//! the best token first, and on the whole vocabulary only when it refuses that one).

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::backend::{ChatRequest, Completion, LlmBackend, LlmError};
use crate::local_config::LocalConfig;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

/// Tokens decoded per batch while reading the prompt.
const BATCH_TOKENS: usize = 512;

/// A JSON object, as a llama.cpp grammar (GBNF). White space is limited to one character
/// between tokens so that a small model cannot spend its budget on it.
const JSON_GRAMMAR: &str = r#"
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? "}" ws
array  ::= "[" ws ( value ( "," ws value )* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] ) )* "\"" ws
number ::= "-"? ( [0-9] | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )? ws
ws     ::= ( " " | "\n" )?
"#;

/// llama.cpp's process-wide state, initialised once.
fn llama() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|error| error.to_string())?;
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|error| LlmError::Local(error.clone()))
}

/// A loaded model.
struct Loaded {
    model: LlamaModel,
    template: LlamaChatTemplate,
    threads: i32,
    context_tokens: u32,
}

/// A GGUF model in-process.
pub struct LocalModel {
    loaded: Arc<Mutex<Loaded>>,
    id: String,
}

fn local_error(what: &str, error: impl std::fmt::Display) -> LlmError {
    LlmError::Local(format!("{what}: {error}"))
}

impl LocalModel {
    /// Loads the model of `config` (blocking: seconds for a large file).
    pub fn load(config: &LocalConfig) -> Result<LocalModel, LlmError> {
        if !config.model_path.is_file() {
            return Err(LlmError::NotConfigured(format!(
                "the model file {} does not exist",
                config.model_path.display()
            )));
        }
        let backend = llama()?;
        let model =
            LlamaModel::load_from_file(backend, &config.model_path, &LlamaModelParams::default())
                .map_err(|error| local_error("the model cannot be loaded", error))?;
        let template = model
            .chat_template(None)
            .map_err(|error| local_error("the model has no chat template", error))?;
        let threads = config
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        Ok(LocalModel {
            id: format!("local:{}", model_name(&config.model_path)),
            loaded: Arc::new(Mutex::new(Loaded {
                context_tokens: config.context_tokens.min(model.n_ctx_train()).max(256),
                threads: i32::try_from(threads.max(1)).unwrap_or(1),
                model,
                template,
            })),
        })
    }
}

/// The model's name: its file name without `.gguf`.
fn model_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().trim_end_matches(".gguf").to_string())
        .unwrap_or_else(|| "model".into())
}

impl Loaded {
    /// Generates one completion (blocking).
    fn generate(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let backend = llama()?;
        let chat = request
            .messages
            .iter()
            .map(|message| {
                LlamaChatMessage::new(message.role.as_str().to_string(), message.content.clone())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| local_error("a message cannot be passed to llama.cpp", error))?;
        let prompt = self
            .model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|error| local_error("the chat template failed", error))?;
        let vocab = self.model.vocab();
        let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
        let needed = tokens.len() + request.max_tokens as usize;
        if needed > self.context_tokens as usize {
            return Err(LlmError::Local(format!(
                "the prompt of {} tokens and an answer of {} do not fit the context of {} tokens",
                tokens.len(),
                request.max_tokens,
                self.context_tokens
            )));
        }
        let context_size = NonZeroU32::new(u32::try_from(needed).unwrap_or(u32::MAX));
        let params = LlamaContextParams::default()
            .with_n_ctx(context_size)
            .with_n_batch(BATCH_TOKENS as u32)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads);
        let mut context = self
            .model
            .new_context(backend, params)
            .map_err(|error| local_error("no context", error))?;

        let mut batch = LlamaBatch::new(BATCH_TOKENS, 1);
        let mut position = 0i32;
        for chunk in tokens.chunks(BATCH_TOKENS) {
            batch.clear();
            for (index, token) in chunk.iter().enumerate() {
                let last = position as usize + index + 1 == tokens.len();
                batch
                    .add(*token, position + index as i32, &[0], last)
                    .map_err(|error| local_error("the prompt batch", error))?;
            }
            context
                .decode(&mut batch)
                .map_err(|error| local_error("reading the prompt failed", error))?;
            position += chunk.len() as i32;
        }

        let mut grammar = if request.json {
            Some(
                LlamaSampler::grammar(&self.model, JSON_GRAMMAR, "root")
                    .map_err(|error| local_error("the JSON grammar", error))?,
            )
        } else {
            None
        };
        let mut text = Vec::new();
        let mut generated = 0u32;
        while generated < request.max_tokens {
            let last = batch.n_tokens() - 1;
            let token = next_token(&context, last, grammar.as_mut());
            if vocab.is_eog(token) {
                break;
            }
            text.extend(vocab.token_to_piece(token, false, None));
            generated += 1;
            batch.clear();
            batch
                .add(token, position, &[0], true)
                .map_err(|error| local_error("the generation batch", error))?;
            context
                .decode(&mut batch)
                .map_err(|error| local_error("generation failed", error))?;
            position += 1;
        }
        Ok(Completion {
            text: String::from_utf8_lossy(&text).into_owned(),
            prompt_tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
            completion_tokens: generated,
        })
    }
}

/// The greedy choice after the output `index` of the last decode, within `grammar` when
/// given. The grammar is first asked about the best token alone and only when it refuses it
/// applied to the whole vocabulary — the same choice, without checking every token of the
/// vocabulary at every step.
fn next_token(
    context: &llama_cpp_2::context::LlamaContext<'_>,
    index: i32,
    grammar: Option<&mut LlamaSampler>,
) -> LlamaToken {
    let logits = context.get_logits_ith(index);
    let best = logits
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (token, &logit)| {
            if logit > best.1 {
                (token, logit)
            } else {
                best
            }
        });
    let best = LlamaToken(i32::try_from(best.0).unwrap_or(0));
    let Some(grammar) = grammar else {
        return best;
    };
    let mut alone = LlamaTokenDataArray::new(
        vec![LlamaTokenData::new(best, logits[best.0 as usize], 0.0)],
        false,
    );
    alone.apply_sampler(grammar);
    let token = if alone.data[0].logit().is_finite() {
        best
    } else {
        let mut all = context.token_data_array_ith(index);
        all.apply_sampler(grammar);
        all.sample_token_greedy()
    };
    grammar.accept(token);
    token
}

#[async_trait::async_trait]
impl LlmBackend for LocalModel {
    fn model_id(&self) -> String {
        self.id.clone()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let loaded = Arc::clone(&self.loaded);
        let request = request.clone();
        tokio::task::spawn_blocking(move || {
            let loaded = loaded
                .lock()
                .map_err(|_| LlmError::Local("an earlier generation panicked".into()))?;
            loaded.generate(&request)
        })
        .await
        .map_err(|error| local_error("the generation task failed", error))?
    }
}
