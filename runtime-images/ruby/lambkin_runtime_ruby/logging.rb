# frozen_string_literal: true

# How a function's `Logger.new($stdout)` (or `$stderr`, or `nil`) writes, as under AWS's Ruby
# runtime (aws_lambda_ric, whose LoggerPatch is prepended to Logger before the handler loads):
#
# - Text (the default): `I, [2026-11-27T13:06:32.563412 #8]  INFO <request id> -- <progname>: msg`.
# - AWS_LAMBDA_LOG_FORMAT=JSON: one object per record, fields in this order: timestamp (UTC,
#   microseconds), level (the Logger severity: DEBUG INFO WARN ERROR FATAL ANY), message,
#   requestId, logger (the progname, when set); an exception logged also gets errorType,
#   errorMessage, stackTrace and location (`file:method:line`). Fields without a value are left
#   out (no requestId before the first invocation).
# - AWS_LAMBDA_LOG_LEVEL (any case) becomes the logger's level, TRACE as DEBUG; unset or
#   unknown leaves Logger's DEBUG. A `level:` or `formatter:` given to Logger.new wins.
#
# Under AWS each write of such a logger is one framed log event; here the agent splits the
# runtime's output on "\n", so a record's inner newlines become "\r" and it stays one event
# (the Python client does the same). Other devices (files, StringIO) are left alone, and so is
# `puts`. The error report for a failed init or invocation is aws_lambda_ric's, in either log
# format: a line naming what failed, then the error document as pretty-printed JSON, one event.

require 'json'
require 'logger'

module LambkinRuntime
  # The request id that records are stamped with; the runtime loop sets it per invocation.
  class RequestLogContext
    attr_accessor :request_id
  end

  # Writes each record it is given as one output line: inner newlines become "\r".
  class OneEventWriter
    def initialize(io)
      @io = io
    end

    def write(text)
      @io.write("#{text.to_s.chomp("\n").tr("\n", "\r")}\n")
    end

    # Logger's LogDevice closes its device on Logger#close: never the process's own stream.
    def close; end
  end

  UTF8_OPTIONS = { invalid: :replace, undef: :replace, replace: "\uFFFD" }.freeze

  def self.utf8(value)
    value.to_s.encode('UTF-8', **UTF8_OPTIONS)
  end

  # `I, [<local time, microseconds> #<pid>]  INFO <request id> -- <progname>: <message>`
  class TextLogFormatter < Logger::Formatter
    def initialize(context)
      super()
      @context = context
    end

    def call(severity, time, progname, msg)
      record = format('%<letter>s, [%<time>s #%<pid>d] %<severity>5s %<request_id>s -- %<progname>s: %<msg>s',
                      letter: severity[0], time: format_datetime(time), pid: Process.pid,
                      severity: severity, request_id: @context.request_id, progname: progname,
                      msg: msg2str(msg))
      "#{LambkinRuntime.utf8(record)}\n"
    end
  end

  # One JSON object per record (see the top of this file for its fields).
  class JsonLogFormatter < Logger::Formatter
    TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%6NZ'
    # `file:line:in `method'` (Ruby < 3.4) or `file:line:in 'Class#method'` (3.4 and later)
    FRAME = /\A(?<file>.+):(?<line>\d+):in [`'](?<method>.+)'\z/.freeze

    def initialize(context)
      super()
      @context = context
    end

    def call(severity, time, progname, msg)
      error = msg.is_a?(Exception) ? msg : nil
      record = {
        'timestamp' => time.utc.strftime(TIME_FORMAT),
        'level' => severity,
        'message' => LambkinRuntime.utf8(error ? error.message : msg2str(msg)),
        'requestId' => @context.request_id
      }
      logger = progname.nil? ? '' : LambkinRuntime.utf8(progname)
      record['logger'] = logger unless logger.empty?
      record.update(error_fields(error)) if error
      "#{JSON.generate(record.compact)}\n"
    end

    private

    def error_fields(error)
      trace = Array(error.backtrace).map { |line| LambkinRuntime.utf8(line) }
      fields = {
        'errorType' => error.class.to_s,
        'errorMessage' => LambkinRuntime.utf8(error.message),
        'stackTrace' => trace
      }
      fields['location'] = location(trace.first) if trace.first
      fields
    end

    def location(frame)
      parts = FRAME.match(frame)
      parts ? "#{parts[:file]}:#{parts[:method]}:#{parts[:line]}" : frame
    end
  end

  # What AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL ask of the function's loggers.
  class LogSettings
    LEVELS = {
      'TRACE' => Logger::DEBUG,
      'DEBUG' => Logger::DEBUG,
      'INFO' => Logger::INFO,
      'WARN' => Logger::WARN,
      'ERROR' => Logger::ERROR,
      'FATAL' => Logger::FATAL
    }.freeze

    attr_reader :level

    def initialize(env, context)
      @json = env['AWS_LAMBDA_LOG_FORMAT'].to_s.upcase == 'JSON'
      @level = LEVELS[env['AWS_LAMBDA_LOG_LEVEL'].to_s.upcase]
      @context = context
    end

    def json?
      @json
    end

    def formatter
      @json ? JsonLogFormatter.new(@context) : TextLogFormatter.new(@context)
    end
  end

  # Prepended to Logger: a logger of $stdout, $stderr or nothing gets the settings' formatter
  # and level (unless given), and $stdout / $stderr are written one event per record. The
  # settings live on the module: function code calls Logger.new, there is nothing to inject.
  module LoggerPatch
    class << self
      attr_accessor :settings
    end

    def initialize(logdev, *args, **options)
      settings = LoggerPatch.settings
      if settings && (logdev.nil? || logdev == $stdout || logdev == $stderr)
        logdev = OneEventWriter.new(logdev) unless logdev.nil?
        options[:formatter] ||= settings.formatter
        options[:level] = settings.level if settings.level && !options.key?(:level)
      end
      super(logdev, *args, **options)
    end
  end

  # Makes every Logger created from now on follow `settings`.
  def self.install_logger_patch(settings)
    LoggerPatch.settings = settings
    Logger.prepend(LoggerPatch) unless Logger.ancestors.include?(LoggerPatch)
  end

  # aws_lambda_ric's error report: `what` on its own line, then the document, pretty-printed,
  # as one event.
  def self.log_error(what, doc, io = $stdout)
    io.write("#{what}\n")
    io.write("#{JSON.pretty_generate(doc).tr("\n", "\r")}\n")
  end
end
