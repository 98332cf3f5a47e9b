//! The thumbnail function's `bootstrap`: JSON tracing, the thumbnailer built once, then each S3
//! notification's records, or the schedule's sweep (see [`photo_lambda::thumbnail`]).

use lambda_runtime::service_fn;
use photo_lambda::{startup, thumbnail};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init_tracing();
    let function = startup::start("thumbnail", thumbnail::build()).await?;
    let function = &function;
    lambda_runtime::run(service_fn(move |event| thumbnail::handle(function, event))).await
}
