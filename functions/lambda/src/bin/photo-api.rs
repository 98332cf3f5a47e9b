//! The API function's `bootstrap`: JSON tracing, the router built once, then API Gateway's
//! requests through `lambda_http` (see [`photo_lambda::api`]).

use photo_lambda::{api, startup};
use tower::ServiceExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    startup::init_tracing();
    let app = startup::start("API", api::build()).await?;
    lambda_http::run(app.map_request(api::with_request_id)).await
}
