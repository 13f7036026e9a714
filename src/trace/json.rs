//! A trace as JSON lines: one object per message, with the question it belongs to.

use super::run::TraceRun;

/// One JSON object per line, per message, in order.
pub fn run_json(run: &TraceRun) -> Result<String, serde_json::Error> {
    let mut text = String::new();
    for question in &run.questions {
        for message in &question.messages {
            let mut value = serde_json::to_value(message)?;
            value["question"] = serde_json::Value::from(question.name.to_string());
            text.push_str(&value.to_string());
            text.push('\n');
        }
    }
    Ok(text)
}
