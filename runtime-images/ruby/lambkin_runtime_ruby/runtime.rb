# frozen_string_literal: true

# Lambkin's Ruby runtime client: `ruby /var/runtime/lambkin_runtime_ruby/runtime.rb`.
#
# Standard library only. It speaks the Lambda Runtime API (2018-06-01) at $AWS_LAMBDA_RUNTIME_API
# and behaves like AWS's Ruby runtime (aws_lambda_ric): handler `file.method` (a method of the
# main object) or `file.Module::Class.method`, called as `handler(event:, context:)`; the context
# object's methods; error documents `{errorMessage, errorType: "Function<ExceptionClass>",
# stackTrace}` (`Init<ExceptionClass>` while loading the handler); the function's loggers as
# LoggingConfig asks (logging.rb).

require 'json'
require 'net/http'
require_relative 'logging'

module LambkinRuntime
  PREFIX = '/2018-06-01/runtime'
  ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type'

  # The context object, with aws_lambda_ric's methods.
  class LambdaContext
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name,
                :function_name, :memory_limit_in_mb, :function_version, :identity,
                :client_context, :deadline_ms

    def initialize(headers)
      @aws_request_id = headers['lambda-runtime-aws-request-id']
      @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
      @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
      @identity = parse(headers['lambda-runtime-cognito-identity'])
      @client_context = parse(headers['lambda-runtime-client-context'])
      @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
      @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
      @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
      @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
      @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
    end

    def get_remaining_time_in_millis
      [@deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
    end

    private

    def parse(text)
      text.nil? || text.empty? ? nil : JSON.parse(text)
    rescue JSON::ParserError
      nil
    end
  end

  # An error document: the exception's class, classified as AWS's Ruby runtime does.
  def self.error_document(error, classification)
    trace = (error.backtrace || []).reject { |line| line.start_with?(__dir__) }
    {
      'errorMessage' => error.message,
      'errorType' => "#{classification}<#{error.class}>",
      'stackTrace' => trace
    }
  end

  # The client of the Runtime API: one kept-alive connection, no read timeout (long poll).
  class RuntimeApi
    def initialize(address)
      host, port = address.split(':')
      @http = Net::HTTP.new(host, port.to_i)
      @http.read_timeout = nil
      @http.keep_alive_timeout = 3600
      @http.start
    end

    def next_invocation
      response = @http.request(Net::HTTP::Get.new("#{PREFIX}/invocation/next"))
      raise "GET /invocation/next: status #{response.code}" unless response.code == '200'

      [response.to_hash.transform_values(&:first), response.body || '']
    end

    def post_response(request_id, body)
      post("#{PREFIX}/invocation/#{request_id}/response", body, 'Content-Type' => 'application/json')
    end

    def post_error(request_id, doc)
      post("#{PREFIX}/invocation/#{request_id}/error", JSON.generate(doc), error_headers(doc))
    end

    def post_init_error(doc)
      post("#{PREFIX}/init/error", JSON.generate(doc), error_headers(doc))
    end

    private

    def error_headers(doc)
      { 'Content-Type' => 'application/json', ERROR_TYPE_HEADER => 'Function<UserException>' }
    end

    def post(path, body, headers)
      request = Net::HTTP::Post.new(path, headers)
      request.body = body
      response = @http.request(request)
      return if response.code.start_with?('2')

      warn "[ERROR] Runtime API refused the result: POST #{path}: #{response.code} #{response.body.to_s[0, 300]}"
    end
  end

  # `file.method` or `file.Module::Class.method` -> something to call with (event:, context:).
  def self.load_handler(task_root, handler)
    file, _, rest = handler.partition('.')
    raise ArgumentError, "Bad handler #{handler}: expected file.method" if file.empty? || rest.empty?

    require File.join(task_root, file)
    receiver_name, _, method_name = rest.rpartition('.')
    receiver = receiver_name.empty? ? TOPLEVEL_BINDING.receiver : Object.const_get(receiver_name)
    begin
      receiver.method(method_name.to_sym)
    rescue NameError
      where = receiver_name.empty? ? 'main:Object' : receiver_name
      raise NoMethodError, "undefined method `#{method_name}' for #{where} (handler #{handler})"
    end
  end

  def self.main
    address = ENV['AWS_LAMBDA_RUNTIME_API'] or abort('lambkin_runtime_ruby: AWS_LAMBDA_RUNTIME_API is not set')
    $stdout.sync = true
    $stderr.sync = true
    log_context = RequestLogContext.new
    install_logger_patch(LogSettings.new(ENV, log_context))
    api = RuntimeApi.new(address)
    begin
      handler = load_handler(ENV['LAMBDA_TASK_ROOT'] || Dir.pwd, ARGV[0] || ENV['_HANDLER'].to_s)
    rescue Exception => e # rubocop:disable Lint/RescueException -- LoadError and SyntaxError too
      doc = error_document(e, 'Init')
      log_error("Init error when loading handler #{ARGV[0] || ENV['_HANDLER']}", doc)
      api.post_init_error(doc)
      exit 1
    end
    loop do
      headers, body = api.next_invocation
      request_id = headers['lambda-runtime-aws-request-id']
      log_context.request_id = request_id
      trace_id = headers['lambda-runtime-trace-id']
      trace_id ? ENV['_X_AMZN_TRACE_ID'] = trace_id : ENV.delete('_X_AMZN_TRACE_ID')
      begin
        event = JSON.parse(body)
        result = handler.call(event: event, context: LambdaContext.new(headers))
        api.post_response(request_id, JSON.generate(result, quirks_mode: true))
      rescue StandardError, ScriptError, NoMemoryError => e
        doc = error_document(e, 'Function')
        log_error('Error raised from handler method', doc)
        api.post_error(request_id, doc)
      end
    end
  end
end

LambkinRuntime.main if $PROGRAM_NAME == __FILE__
