//! A trace as JSON lines: one object per message, with the question it
//! belongs to; a message after which a cached RRset was used instead of
//! asking carries it in `from_cache` (cached.rs: records, source,
//! learned_in_question, learned_in_message, age, ttl_left, credibility);
//! with `--explain`, a query says in `why` why it went to its server (explain.rs);
//! with `--dnssec`, a question's last message carries its `chain_of_trust`.

use super::run::TraceRun;

/// One JSON object per line, per message, in order.
pub fn run_json(run: &TraceRun) -> Result<String, serde_json::Error> {
    let mut text = String::new();
    for question in &run.questions {
        for message in &question.messages {
            let mut value = serde_json::to_value(message)?;
            value["question"] = serde_json::Value::from(question.name.to_string());
            let last = question.messages.len();
            let used: Vec<_> = question
                .from_cache
                .iter()
                .filter(|step| {
                    step.before_message.saturating_sub(1).clamp(1, last) == message.number
                })
                .collect();
            if !used.is_empty() {
                value["from_cache"] = serde_json::to_value(used)?;
            }
            let why = question
                .why
                .iter()
                .find(|why| why.message == message.number);
            if let Some(why) = why.filter(|_| run.explain) {
                value["why"] = serde_json::to_value(why)?;
            }
            if let Some(chain) = question.chain.as_ref().filter(|_| message.number == last) {
                value["chain_of_trust"] = serde_json::to_value(chain)?;
            }
            text.push_str(&value.to_string());
            text.push('\n');
        }
    }
    Ok(text)
}
